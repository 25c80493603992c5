// Output forms of the client subcommands (see output_format.h).
#include "cli/output_format.h"

#include <algorithm>

namespace nds::cli {

Result<OutputFormat> ParseOutputFormat(const std::string& text) {
  if (text == "text") return OutputFormat::kText;
  if (text == "json") return OutputFormat::kJson;
  if (text == "table") return OutputFormat::kTable;
  return InvalidArgument("--output must be text, json or table, got '" + text + "'");
}

std::string RenderTable(const std::vector<std::string>& header,
                        const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width(header.size(), 0);
  auto cell = [](const std::vector<std::string>& row, size_t c) -> const std::string& {
    static const std::string kNone = "-";
    return c < row.size() ? row[c] : kNone;
  };
  for (size_t c = 0; c < header.size(); ++c) {
    width[c] = header[c].size();
    for (const auto& row : rows) width[c] = std::max(width[c], cell(row, c).size());
  }
  std::string out;
  auto line = [&](const std::vector<std::string>& row) {
    for (size_t c = 0; c < header.size(); ++c) {
      const std::string& v = cell(row, c);
      out += v;
      if (c + 1 < header.size()) out.append(width[c] - v.size() + 2, ' ');
    }
    out += '\n';
  };
  line(header);
  for (const auto& row : rows) line(row);
  return out;
}

}  // namespace nds::cli
