// Log level, format and colour of the server (see log_setup.h).
#include "cli/log_setup.h"

#include <cctype>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace nds::cli {
namespace {

bool IsFieldKey(std::string_view key) {
  if (key.empty()) return false;
  for (char c : key) {
    if (!(c == '_' || (c >= 'a' && c <= 'z'))) return false;
  }
  return true;
}

// "warning" -> "warn", "critical" -> "fatal"; the rest as spdlog names them.
std::string_view LevelWord(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::warn:
      return "warn";
    case spdlog::level::critical:
      return "fatal";
    default: {
      auto name = spdlog::level::to_string_view(level);
      return std::string_view(name.data(), name.size());
    }
  }
}

// Writes each message as one JSON line on stdout, flushed (a crash loses no line).
class JsonLineSink final : public spdlog::sinks::base_sink<std::mutex> {
 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    const auto micros =
        std::chrono::duration_cast<std::chrono::microseconds>(msg.time.time_since_epoch()).count();
    const std::time_t seconds = static_cast<std::time_t>(micros / 1000000);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    const std::string ts = fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:06}Z", utc, micros % 1000000);
    const std::string line = FormatJsonLogLine(
        ts, LevelWord(msg.level), std::string_view(msg.payload.data(), msg.payload.size()));
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fflush(stdout);
  }
  void flush_() override { std::fflush(stdout); }
};

}  // namespace

void AddLogFlags(CLI::App* app, LogFlags* flags) {
  app->add_option("--log-level", flags->level, "Least severe log lines shown")
      ->capture_default_str()
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}));
  app->add_option("--log-format", flags->format,
                  "text (for people) or json (one object a line: ts, level, msg, fields)")
      ->capture_default_str()
      ->check(CLI::IsMember({"text", "json"}));
}

std::string FormatJsonLogLine(std::string_view ts, std::string_view level, std::string_view msg) {
  nlohmann::ordered_json j;
  j["ts"] = ts;
  j["level"] = level;
  j["msg"] = msg;
  size_t pos = 0;
  while (pos < msg.size()) {
    size_t end = msg.find(' ', pos);
    if (end == std::string_view::npos) end = msg.size();
    std::string_view word = msg.substr(pos, end - pos);
    pos = end + 1;
    const size_t eq = word.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view key = word.substr(0, eq);
    std::string_view value = word.substr(eq + 1);
    while (!value.empty() && (value.back() == ',' || value.back() == ';' || value.back() == ')')) {
      value.remove_suffix(1);
    }
    if (!IsFieldKey(key) || value.empty() || key == "ts" || key == "level" || key == "msg") {
      continue;
    }
    uint64_t number = 0;
    auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), number);
    if (ec == std::errc() && p == value.data() + value.size()) {
      j[std::string(key)] = number;
    } else {
      j[std::string(key)] = value;
    }
  }
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

Status SetUpLogging(const LogFlags& flags) {
  spdlog::level::level_enum level;
  if (flags.level == "debug") {
    level = spdlog::level::debug;
  } else if (flags.level == "info") {
    level = spdlog::level::info;
  } else if (flags.level == "warn") {
    level = spdlog::level::warn;
  } else if (flags.level == "error") {
    level = spdlog::level::err;
  } else {
    return InvalidArgument("--log-level must be debug, info, warn or error, got '" + flags.level +
                           "'");
  }
  std::shared_ptr<spdlog::logger> logger;
  if (flags.format == "json") {
    logger = std::make_shared<spdlog::logger>("", std::make_shared<JsonLineSink>());
  } else if (flags.format == "text") {
    const char* no_color = std::getenv("NO_COLOR");
    const bool plain = no_color != nullptr && no_color[0] != '\0';
    auto sink = std::make_shared<spdlog::sinks::stdout_color_sink_mt>(
        plain ? spdlog::color_mode::never : spdlog::color_mode::automatic);
    logger = std::make_shared<spdlog::logger>("", std::move(sink));
  } else {
    return InvalidArgument("--log-format must be text or json, got '" + flags.format + "'");
  }
  logger->set_level(level);
  spdlog::set_default_logger(std::move(logger));
  return Status::Ok();
}

}  // namespace nds::cli
