// Structured logging on spdlog: one process-wide sink (stderr by default) in console or JSON
// format, leveled, with typed key/value fields. Secrets are passed as Secret(...) fields and are
// never rendered. Thread-safe.
//
//   log::Logger lg("provisioner");
//   lg.Info("launched instance", {{"nodeclaim", name}, {"instance", id}, {"cost", 1.23}});
//   console: 2026-11-24T22:16:01.123Z INFO provisioner launched instance nodeclaim=gpu-x ...
//   json:    {"ts":"2026-11-24T22:16:01.123Z","level":"info","logger":"provisioner",
//             "msg":"launched instance","nodeclaim":"gpu-x",...}
#pragma once

#include <initializer_list>
#include <ostream>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace gpufleet::core::log {

enum class Level { kTrace, kDebug, kInfo, kWarn, kError, kOff };
enum class Format { kConsole, kJson };

// "trace", "debug", "info", "warn" (or "warning"), "error", "off".
Result<Level> ParseLevel(std::string_view text);
// "console" or "json".
Result<Format> ParseFormat(std::string_view text);

// Where and how the process logs. `out` nullptr means stderr; otherwise the stream must outlive
// logging (tests pass a std::ostringstream). May be called again to reconfigure.
void Configure(Level level, Format format, std::ostream* out = nullptr);
bool Enabled(Level level);

struct Field {
  Field(std::string_view k, nlohmann::json v) : key(k), value(std::move(v)) {}
  Field(std::string_view k, const Status& s) : key(k), value(s.ToString()) {}
  std::string_view key;
  nlohmann::json value;
  bool secret = false;
};

// A field whose value is never written; it renders as "<redacted>".
Field Secret(std::string_view key);

void Write(Level level, std::string_view logger, std::string_view msg,
           std::initializer_list<Field> fields = {});

// A named component logger; cheap to copy.
class Logger {
 public:
  explicit Logger(std::string name) : name_(std::move(name)) {}
  void Trace(std::string_view msg, std::initializer_list<Field> f = {}) const {
    Write(Level::kTrace, name_, msg, f);
  }
  void Debug(std::string_view msg, std::initializer_list<Field> f = {}) const {
    Write(Level::kDebug, name_, msg, f);
  }
  void Info(std::string_view msg, std::initializer_list<Field> f = {}) const {
    Write(Level::kInfo, name_, msg, f);
  }
  void Warn(std::string_view msg, std::initializer_list<Field> f = {}) const {
    Write(Level::kWarn, name_, msg, f);
  }
  void Error(std::string_view msg, std::initializer_list<Field> f = {}) const {
    Write(Level::kError, name_, msg, f);
  }
  const std::string& name() const { return name_; }

 private:
  std::string name_;
};

}  // namespace gpufleet::core::log
