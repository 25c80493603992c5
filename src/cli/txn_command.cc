// `nds txn [FILE|-]`: sends a transaction (docs/api.md "Transactions") read as JSON from FILE or
// stdin to POST /txn and prints the answer. Exit status: 0 when the success ops ran, 5 when the
// failure ops ran (a compare did not hold), 1 when it could not run, 2 for a bad command line.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/client_commands.h"
#include "cli/terminal_io.h"

namespace nds::cli {

void ClientCommands::AddTxnCommands(CLI::App& app) {
  auto* txn = app.add_subcommand(
      "txn", "Run a transaction from FILE or stdin (JSON); exit 0 if it succeeded, 5 if not");
  txn->add_option("FILE", txn_input_, "The transaction as JSON, or - for stdin")
      ->capture_default_str();
  OnRun(txn, [this](Client& c) {
    Result<std::string> body = ReadInput(txn_input_);
    if (!body.ok()) return ReportError("txn", body.status());
    if (nlohmann::json::parse(*body, nullptr, /*allow_exceptions=*/false).is_discarded()) {
      return ReportError("txn", InvalidArgument(fmt::format("{} is not JSON", Quoted(txn_input_))));
    }
    Result<client::HttpReply> reply =
        c.Raw("POST", "/txn", *body, {{"Content-Type", "application/json"}});
    if (!reply.ok()) return ReportError("txn", reply.status());
    auto answer = nlohmann::json::parse(reply->body, nullptr, /*allow_exceptions=*/false);
    if (reply->status != 200) {
      const std::string message =
          answer.is_object() ? answer.value("message", reply->body) : reply->body;
      return ReportError("txn",
                         InvalidArgument(fmt::format("HTTP {}: {}", reply->status, message)));
    }
    const Status s = WriteStdout(reply->body);
    if (!s.ok()) return ReportError("txn", s);
    return answer.is_object() && answer.value("succeeded", false) ? kExitOk : kExitTxnFailed;
  });
}

}  // namespace nds::cli
