// StateStore: the emulator's resources (instances, launch templates, capacity reservations,
// subnets, ...) as JSON documents in their wire shape, kept in memory and written through to
// SQLite so a restarted emulator finds what it launched. Every Commit is one transaction: a
// CreateFleet that starts instances and takes reservation capacity is stored whole or not at all.
// Not thread-safe; the emulator serialises requests.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"

struct sqlite3;

namespace gpufleet::cloud::ec2emu {

struct Change {
  std::string kind;  // "instance", "launch-template", ...
  std::string id;
  std::optional<nlohmann::json> body;  // nullopt deletes
};

class StateStore {
 public:
  // Opens (creating) the database at `path`; ":memory:" for tests that need no persistence.
  static Result<std::unique_ptr<StateStore>> Open(const std::string& path);
  ~StateStore();
  StateStore(const StateStore&) = delete;
  StateStore& operator=(const StateStore&) = delete;

  // Every resource of `kind`, ordered by id.
  const std::map<std::string, nlohmann::json>& All(std::string_view kind) const;
  const nlohmann::json* Get(std::string_view kind, std::string_view id) const;
  // Applies `changes` to the database in one transaction, then to memory. On failure nothing
  // changes.
  Status Commit(const std::vector<Change>& changes);

 private:
  StateStore() = default;
  sqlite3* db_ = nullptr;
  std::map<std::string, std::map<std::string, nlohmann::json>, std::less<>> kinds_;
};

}  // namespace gpufleet::cloud::ec2emu
