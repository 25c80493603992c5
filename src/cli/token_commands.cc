// `nds token create|list|revoke`: the access-token routes (/auth/tokens) from the command line.
// They need an admin token (--token-file or NDS_AUTH_TOKEN); see docs/cli.md.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/client_commands.h"
#include "cli/output_format.h"
#include "cli/terminal_io.h"

namespace nds::cli {

void ClientCommands::AddTokenCommands(CLI::App& app) {
  auto* token = app.add_subcommand("token", "Create, list and revoke access tokens (admin)");
  token->require_subcommand(1);

  auto* create = token->add_subcommand("create", "Create a token; prints it (shown only once)");
  create->add_option("NAME", token_name_, "Letters, digits, '_' and '-', up to 64")->required();
  create->add_option("--role", token_role_, "read, write or admin")
      ->required()
      ->check(CLI::IsMember({"read", "write", "admin"}));
  create->add_option("--prefix", token_prefix_,
                     "Only keys starting with PREFIX (default: every key)");
  OnRun(create, [this](Client& c) {
    Result<std::string> t = c.CreateToken(token_name_, token_role_, token_prefix_);
    const std::string context = fmt::format("token create {}", Quoted(token_name_));
    if (!t.ok()) return ReportError(context, t.status());
    const Status s = WriteStdout(*t + "\n");
    return s.ok() ? kExitOk : ReportError(context, s);
  });

  auto* list = token->add_subcommand("list", "List tokens: name, role, prefix");
  OnRun(list, [this](Client& c) {
    Result<std::vector<client::TokenInfo>> tokens = c.ListTokens();
    if (!tokens.ok()) return ReportError("token list", tokens.status());
    std::string out;
    if (output_ == "json") {
      nlohmann::json list = nlohmann::json::array();
      for (const client::TokenInfo& t : *tokens) {
        list.push_back({{"name", t.name}, {"role", t.role}, {"prefix", t.prefix}});
      }
      out = list.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    } else if (output_ == "table") {
      std::vector<std::vector<std::string>> rows;
      for (const client::TokenInfo& t : *tokens) rows.push_back({t.name, t.role, Quoted(t.prefix)});
      out = RenderTable({"NAME", "ROLE", "PREFIX"}, rows);
    }
    for (const client::TokenInfo& t : *tokens) {
      if (output_ != "text") break;
      out += fmt::format("{}\t{}\t{}\n", t.name, t.role, Quoted(t.prefix));
    }
    const Status s = WriteStdout(out);
    return s.ok() ? kExitOk : ReportError("token list", s);
  });

  auto* revoke = token->add_subcommand("revoke", "Revoke a token on every node");
  revoke->add_option("NAME", token_name_, "The token's name")->required();
  OnRun(revoke, [this](Client& c) {
    const Status s = c.RevokeToken(token_name_);
    return s.ok() ? kExitOk : ReportError(fmt::format("token revoke {}", Quoted(token_name_)), s);
  });
}

}  // namespace nds::cli
