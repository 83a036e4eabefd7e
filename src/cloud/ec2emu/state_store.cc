#include "cloud/ec2emu/state_store.h"

#include <sqlite3.h>

namespace gpufleet::cloud::ec2emu {

namespace {

Status SqlError(sqlite3* db, std::string_view what) {
  return DataLossError("ec2 emulator state: " + std::string(what) + ": " + sqlite3_errmsg(db));
}

Status Exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string message = err ? err : "unknown error";
    sqlite3_free(err);
    return DataLossError(message);
  }
  return OkStatus();
}

}  // namespace

Result<std::unique_ptr<StateStore>> StateStore::Open(const std::string& path) {
  auto store = std::unique_ptr<StateStore>(new StateStore());
  if (sqlite3_open_v2(path.c_str(), &store->db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK) {
    return UnavailableError("ec2 emulator state \"" + path + "\": " +
                            (store->db_ ? sqlite3_errmsg(store->db_) : "cannot open"));
  }
  // Opening is lazy: a file that is not a database fails here, named.
  auto named = [&path](Status s) {
    return s.ok() ? s : Status(s.code(), "ec2 emulator state \"" + path + "\": " + std::string(s.message()));
  };
  GF_RETURN_IF_ERROR(named(Exec(store->db_, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;")));
  GF_RETURN_IF_ERROR(named(Exec(store->db_,
                                "CREATE TABLE IF NOT EXISTS resources (kind TEXT NOT NULL, id TEXT NOT NULL, "
                                "body TEXT NOT NULL, PRIMARY KEY (kind, id))")));
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(store->db_, "SELECT kind, id, body FROM resources", -1, &stmt, nullptr) != SQLITE_OK) {
    return SqlError(store->db_, "read");
  }
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    std::string kind = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    std::string id = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 1));
    auto body = nlohmann::json::parse(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 2)), nullptr, false);
    if (body.is_discarded()) {
      sqlite3_finalize(stmt);
      return DataLossError("ec2 emulator state \"" + path + "\": " + kind + " " + id + " is not valid JSON");
    }
    store->kinds_[kind][id] = std::move(body);
  }
  sqlite3_finalize(stmt);
  return store;
}

StateStore::~StateStore() {
  if (db_ != nullptr) sqlite3_close(db_);
}

const std::map<std::string, nlohmann::json>& StateStore::All(std::string_view kind) const {
  static const std::map<std::string, nlohmann::json> kEmpty;
  auto it = kinds_.find(kind);
  return it == kinds_.end() ? kEmpty : it->second;
}

const nlohmann::json* StateStore::Get(std::string_view kind, std::string_view id) const {
  auto it = kinds_.find(kind);
  if (it == kinds_.end()) return nullptr;
  auto r = it->second.find(std::string(id));
  return r == it->second.end() ? nullptr : &r->second;
}

Status StateStore::Commit(const std::vector<Change>& changes) {
  if (changes.empty()) return OkStatus();
  if (Status s = Exec(db_, "BEGIN IMMEDIATE"); !s.ok()) return DataLossError("ec2 emulator state: " + std::string(s.message()));
  sqlite3_stmt* upsert = nullptr;
  sqlite3_stmt* erase = nullptr;
  Status status = OkStatus();
  if (sqlite3_prepare_v2(db_, "INSERT OR REPLACE INTO resources (kind, id, body) VALUES (?, ?, ?)", -1, &upsert,
                         nullptr) != SQLITE_OK ||
      sqlite3_prepare_v2(db_, "DELETE FROM resources WHERE kind = ? AND id = ?", -1, &erase, nullptr) != SQLITE_OK) {
    status = SqlError(db_, "prepare");
  }
  for (size_t i = 0; status.ok() && i < changes.size(); ++i) {
    const Change& c = changes[i];
    sqlite3_stmt* stmt = c.body ? upsert : erase;
    sqlite3_reset(stmt);
    sqlite3_bind_text(stmt, 1, c.kind.data(), int(c.kind.size()), SQLITE_TRANSIENT);
    sqlite3_bind_text(stmt, 2, c.id.data(), int(c.id.size()), SQLITE_TRANSIENT);
    if (c.body) {
      const std::string text = c.body->dump();
      sqlite3_bind_text(stmt, 3, text.data(), int(text.size()), SQLITE_TRANSIENT);
    }
    if (sqlite3_step(stmt) != SQLITE_DONE) status = SqlError(db_, "write " + c.kind + " " + c.id);
  }
  sqlite3_finalize(upsert);
  sqlite3_finalize(erase);
  if (!status.ok() || !Exec(db_, "COMMIT").ok()) {
    Exec(db_, "ROLLBACK").IgnoreError();
    return status.ok() ? SqlError(db_, "commit") : status;
  }
  for (const Change& c : changes) {
    if (c.body) {
      kinds_[c.kind][c.id] = *c.body;
    } else if (auto it = kinds_.find(c.kind); it != kinds_.end()) {
      it->second.erase(c.id);
    }
  }
  return OkStatus();
}

}  // namespace gpufleet::cloud::ec2emu
