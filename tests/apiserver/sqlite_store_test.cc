#include "apiserver/sqlite_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <future>
#include <thread>
#include <vector>

#include "testing/status_matchers.h"

namespace gpufleet::apiserver {
namespace {

using ::gpufleet::testing::StatusIs;
using namespace std::chrono_literals;

std::string TempDb(const char* name) {
  auto dir = std::filesystem::path(::testing::TempDir()) / ("store_" + std::string(name));
  std::filesystem::remove_all(dir);
  return (dir / "state.db").string();
}

Mutation Put(std::string value) {
  return [value](const StoredObject*, int64_t rv) -> Result<Write> {
    return Write{Write::Kind::kPut, value + "@" + std::to_string(rv)};
  };
}

Mutation Create(std::string value) {
  return [value](const StoredObject* current, int64_t rv) -> Result<Write> {
    if (current) return AlreadyExistsError("exists");
    return Write{Write::Kind::kPut, value + "@" + std::to_string(rv)};
  };
}

Mutation Delete() {
  return [](const StoredObject* current, int64_t rv) -> Result<Write> {
    if (!current) return NotFoundError("gone");
    return Write{Write::Kind::kDelete, *current->json + " deleted@" + std::to_string(rv)};
  };
}

std::unique_ptr<SqliteStore> Open(const std::string& path) {
  auto s = SqliteStore::Open({.path = path});
  EXPECT_TRUE(s.ok()) << s.status();
  return std::move(s).value();
}

TEST(SqliteStore, WritesGetMonotonicGlobalVersions) {
  auto store = Open(TempDb("rv"));
  GF_ASSERT_OK_AND_ASSIGN(auto a, store->Apply("/pods/default/a", Put("a")));
  GF_ASSERT_OK_AND_ASSIGN(auto b, store->Apply("/nodes//n1", Put("n1")));
  EXPECT_EQ(a.rv, 1);
  EXPECT_EQ(b.rv, 2);
  EXPECT_EQ(*b.json, "n1@2");
  EXPECT_EQ(store->CurrentRv(), 2);
  GF_ASSERT_OK_AND_ASSIGN(auto got, store->Get("/pods/default/a"));
  EXPECT_EQ(*got.json, "a@1");
  EXPECT_THAT(store->Get("/pods/default/missing"), StatusIs(StatusCode::kNotFound));
}

TEST(SqliteStore, MutationErrorsWriteNothing) {
  auto store = Open(TempDb("errors"));
  GF_ASSERT_OK(store->Apply("/k", Create("v")));
  EXPECT_THAT(store->Apply("/k", Create("v")), StatusIs(StatusCode::kAlreadyExists));
  EXPECT_EQ(store->CurrentRv(), 1);
  EXPECT_THAT(store->Apply("/missing", Delete()), StatusIs(StatusCode::kNotFound));
}

TEST(SqliteStore, NoopUsesNoVersion) {
  auto store = Open(TempDb("noop"));
  GF_ASSERT_OK(store->Apply("/k", Put("v")));
  GF_ASSERT_OK_AND_ASSIGN(auto same, store->Apply("/k", [](const StoredObject*, int64_t) {
                            return Result<Write>(Write{Write::Kind::kNoop, ""});
                          }));
  EXPECT_EQ(same.rv, 1);
  EXPECT_EQ(store->CurrentRv(), 1);
}

TEST(SqliteStore, ListByPrefixWithLimitAndContinue) {
  auto store = Open(TempDb("list"));
  for (auto name : {"c", "a", "b", "d"}) GF_ASSERT_OK(store->Apply(std::string("/pods/ns1/") + name, Put(name)));
  GF_ASSERT_OK(store->Apply("/pods/ns2/z", Put("z")));
  ListResult page1 = store->List("/pods/ns1/", "", 3);
  ASSERT_EQ(page1.items.size(), 3u);
  EXPECT_EQ(page1.items[0].key, "/pods/ns1/a");
  ASSERT_TRUE(page1.continue_after.has_value());
  ListResult page2 = store->List("/pods/ns1/", *page1.continue_after, 3);
  ASSERT_EQ(page2.items.size(), 1u);
  EXPECT_EQ(page2.items[0].key, "/pods/ns1/d");
  EXPECT_FALSE(page2.continue_after.has_value());
  EXPECT_EQ(store->List("/pods/", "", 0).items.size(), 5u);
}

TEST(SqliteStore, SurvivesReopenWithVersions) {
  std::string path = TempDb("reopen");
  {
    auto store = Open(path);
    GF_ASSERT_OK(store->Apply("/a", Put("a")));
    GF_ASSERT_OK(store->Apply("/b", Put("b")));
    GF_ASSERT_OK(store->Apply("/a", Delete()));
  }
  auto store = Open(path);
  EXPECT_EQ(store->CurrentRv(), 3);
  EXPECT_THAT(store->Get("/a"), StatusIs(StatusCode::kNotFound));
  GF_ASSERT_OK_AND_ASSIGN(auto b, store->Get("/b"));
  EXPECT_EQ(b.rv, 2);
  GF_ASSERT_OK_AND_ASSIGN(auto c, store->Apply("/c", Put("c")));
  EXPECT_EQ(c.rv, 4);  // versions never go back after a restart
}

TEST(SqliteStore, ConcurrentWritesShareCommits) {
  auto store = Open(TempDb("group"));
  constexpr int kThreads = 16, kEach = 20;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        auto r = store->Apply("/k/" + std::to_string(t) + "/" + std::to_string(i), Put("x"));
        EXPECT_TRUE(r.ok());
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(store->CurrentRv(), kThreads * kEach);
  EXPECT_EQ(store->List("/k/", "", 0).items.size(), size_t(kThreads * kEach));
}

TEST(SqliteStore, WritesQueuedDuringACommitShareTheNextOne) {
  auto store = Open(TempDb("group_exact"));
  std::promise<void> release, entered;
  std::shared_future<void> released = release.get_future().share();
  // The first write holds the writer thread inside its batch until released.
  std::thread first([&] {
    auto r = store->Apply("/first", [&entered, released](const StoredObject*, int64_t rv) -> Result<Write> {
      entered.set_value();
      released.wait();
      return Write{Write::Kind::kPut, "f@" + std::to_string(rv)};
    });
    EXPECT_TRUE(r.ok());
  });
  entered.get_future().wait();  // the writer thread is now inside the first batch
  constexpr int kQueued = 16;
  std::vector<std::thread> queued;
  for (int i = 0; i < kQueued; ++i) {
    queued.emplace_back([&, i] { EXPECT_TRUE(store->Apply("/q/" + std::to_string(i), Put("q")).ok()); });
  }
  while (store->QueuedForTest() < size_t(kQueued)) std::this_thread::yield();
  release.set_value();
  first.join();
  for (auto& t : queued) t.join();
  EXPECT_EQ(store->CurrentRv(), kQueued + 1);
  EXPECT_EQ(store->CommitCountForTest(), 2);  // the first write, then all sixteen together
}

TEST(SqliteStore, WatchReplaysFromVersionThenStreams) {
  auto store = Open(TempDb("watch"));
  GF_ASSERT_OK(store->Apply("/pods/a", Put("a")));
  GF_ASSERT_OK(store->Apply("/nodes/x", Put("x")));
  GF_ASSERT_OK(store->Apply("/pods/b", Put("b")));
  GF_ASSERT_OK_AND_ASSIGN(auto watch, store->WatchPrefix("/pods/", 1));
  GF_ASSERT_OK_AND_ASSIGN(Event e, watch->Next(1s));
  EXPECT_EQ(e.type, EventType::kAdded);
  EXPECT_EQ(e.object.key, "/pods/b");
  GF_ASSERT_OK(store->Apply("/pods/a", Put("a2")));
  GF_ASSERT_OK(store->Apply("/pods/a", Delete()));
  GF_ASSERT_OK_AND_ASSIGN(e, watch->Next(1s));
  EXPECT_EQ(e.type, EventType::kModified);
  EXPECT_EQ(e.object.rv, 4);
  GF_ASSERT_OK_AND_ASSIGN(e, watch->Next(1s));
  EXPECT_EQ(e.type, EventType::kDeleted);
  EXPECT_EQ(e.object.rv, 5);
  EXPECT_THAT(watch->Next(10ms), StatusIs(StatusCode::kDeadlineExceeded));
  watch->Stop();
  EXPECT_THAT(watch->Next(1s), StatusIs(StatusCode::kCancelled));
}

TEST(SqliteStore, WatchFromBeforeWindowIsOutOfRange) {
  std::string path = TempDb("window");
  {
    auto store = Open(path);
    GF_ASSERT_OK(store->Apply("/a", Put("a")));
    GF_ASSERT_OK(store->Apply("/a", Put("b")));
  }
  // After a restart the window starts at the current version: older watches must relist.
  auto store = Open(path);
  EXPECT_THAT(store->WatchPrefix("/", 1), StatusIs(StatusCode::kOutOfRange));
  GF_ASSERT_OK(store->WatchPrefix("/", 2));
  auto small = SqliteStore::Open({.path = TempDb("window_small"), .event_window = 2});
  ASSERT_TRUE(small.ok());
  for (int i = 0; i < 5; ++i) GF_ASSERT_OK((*small)->Apply("/a", Put("v")));
  EXPECT_THAT((*small)->WatchPrefix("/", 2), StatusIs(StatusCode::kOutOfRange));
  GF_ASSERT_OK((*small)->WatchPrefix("/", 3));
}

TEST(SqliteStore, SlowWatcherIsCutOffNotBuffered) {
  auto opened = SqliteStore::Open({.path = TempDb("slow"), .watcher_queue_limit = 3});
  ASSERT_TRUE(opened.ok());
  auto& store = *opened;
  GF_ASSERT_OK_AND_ASSIGN(auto watch, store->WatchPrefix("/", 0));
  for (int i = 0; i < 5; ++i) GF_ASSERT_OK(store->Apply("/k" + std::to_string(i), Put("v")));
  EXPECT_THAT(watch->Next(1s), StatusIs(StatusCode::kResourceExhausted));
  // Writers were never blocked: all five committed.
  EXPECT_EQ(store->CurrentRv(), 5);
}

TEST(SqliteStore, OpenFailsWithPathInMessage) {
  EXPECT_THAT(SqliteStore::Open({.path = "/proc/no/such/dir/db"}),
              StatusIs(StatusCode::kInvalidArgument, ::testing::HasSubstr("/proc/no/such/dir/db")));
}

}  // namespace
}  // namespace gpufleet::apiserver
