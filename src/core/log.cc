#include "core/log.h"

#include <chrono>
#include <memory>
#include <mutex>

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "core/time_format.h"

namespace gpufleet::core::log {
namespace {

struct State {
  std::mutex mu;
  std::shared_ptr<spdlog::logger> logger;
  Format format = Format::kConsole;
};

State& GetState() {
  static State* state = [] {
    auto* s = new State();  // never destroyed: logging stays valid during exit
    s->logger = std::make_shared<spdlog::logger>(
        "gpufleet", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    s->logger->set_pattern("%v");
    s->logger->set_level(spdlog::level::info);
    return s;
  }();
  return *state;
}

spdlog::level::level_enum ToSpd(Level l) {
  switch (l) {
    case Level::kTrace: return spdlog::level::trace;
    case Level::kDebug: return spdlog::level::debug;
    case Level::kInfo: return spdlog::level::info;
    case Level::kWarn: return spdlog::level::warn;
    case Level::kError: return spdlog::level::err;
    case Level::kOff: return spdlog::level::off;
  }
  return spdlog::level::info;
}

std::string_view LevelName(Level l) {
  switch (l) {
    case Level::kTrace: return "trace";
    case Level::kDebug: return "debug";
    case Level::kInfo: return "info";
    case Level::kWarn: return "warn";
    case Level::kError: return "error";
    case Level::kOff: return "off";
  }
  return "info";
}

std::string Timestamp() {
  auto now = std::chrono::system_clock::now();
  std::string micro = FormatRfc3339Micro(now);  // ...SS.uuuuuuZ
  return micro.substr(0, micro.size() - 4) + "Z";  // milliseconds are enough for logs
}

// Console values: bare when simple, JSON-quoted when they contain spaces, quotes or '='.
std::string ConsoleValue(const nlohmann::json& v) {
  if (!v.is_string()) return v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  const auto& s = v.get_ref<const std::string&>();
  bool plain = !s.empty() && s.find_first_of(" \t\n\"=") == std::string::npos;
  return plain ? s : v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

Result<Level> ParseLevel(std::string_view text) {
  if (text == "trace") return Level::kTrace;
  if (text == "debug") return Level::kDebug;
  if (text == "info") return Level::kInfo;
  if (text == "warn" || text == "warning") return Level::kWarn;
  if (text == "error") return Level::kError;
  if (text == "off") return Level::kOff;
  return InvalidArgumentError("log level \"" + std::string(text) +
                              "\": must be one of trace, debug, info, warn, error, off");
}

Result<Format> ParseFormat(std::string_view text) {
  if (text == "console") return Format::kConsole;
  if (text == "json") return Format::kJson;
  return InvalidArgumentError("log format \"" + std::string(text) + "\": must be console or json");
}

void Configure(Level level, Format format, std::ostream* out) {
  State& s = GetState();
  std::lock_guard lock(s.mu);
  spdlog::sink_ptr sink;
  if (out) {
    sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(*out, /*force_flush=*/true);
  } else {
    sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  }
  auto logger = std::make_shared<spdlog::logger>("gpufleet", sink);
  logger->set_pattern("%v");
  logger->set_level(ToSpd(level));
  logger->flush_on(spdlog::level::warn);
  s.logger = std::move(logger);
  s.format = format;
}

bool Enabled(Level level) {
  State& s = GetState();
  std::lock_guard lock(s.mu);
  return s.logger->should_log(ToSpd(level));
}

Field Secret(std::string_view key) {
  Field f(key, nullptr);
  f.secret = true;
  return f;
}

void Write(Level level, std::string_view logger, std::string_view msg,
           std::initializer_list<Field> fields) {
  State& s = GetState();
  std::shared_ptr<spdlog::logger> out;
  Format format;
  {
    std::lock_guard lock(s.mu);
    if (!s.logger->should_log(ToSpd(level))) return;
    out = s.logger;
    format = s.format;
  }
  std::string line;
  if (format == Format::kJson) {
    nlohmann::ordered_json j;
    j["ts"] = Timestamp();
    j["level"] = LevelName(level);
    j["logger"] = logger;
    j["msg"] = msg;
    for (const auto& f : fields) {
      j[std::string(f.key)] = f.secret ? nlohmann::json("<redacted>") : f.value;
    }
    line = j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  } else {
    std::string upper(LevelName(level));
    for (char& c : upper) c = static_cast<char>(c - 'a' + 'A');
    line = Timestamp() + " " + upper + " " + std::string(logger) + " " + std::string(msg);
    for (const auto& f : fields) {
      line += " " + std::string(f.key) + "=" + (f.secret ? "<redacted>" : ConsoleValue(f.value));
    }
  }
  out->log(ToSpd(level), "{}", line);
}

}  // namespace gpufleet::core::log
