#include "core/interned_string.h"

#include <map>
#include <set>
#include <thread>
#include <unordered_set>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/labels.h"

namespace gpufleet::core {
namespace {

// Unique per test so counts are not disturbed by strings other tests hold.
std::string Unique(std::string_view stem, int i) {
  return std::string(stem) + "-" + std::to_string(i) + "-" + std::to_string(reinterpret_cast<uintptr_t>(&stem));
}

TEST(InternedStringTest, EmptyNeedsNoEntry) {
  InternedString a, b("");
  EXPECT_TRUE(a.empty());
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(a, b);
  EXPECT_STREQ(a.c_str(), "");
  EXPECT_EQ(a.size(), 0u);
  EXPECT_EQ(a.hash(), std::hash<std::string_view>()(""));
}

TEST(InternedStringTest, SameTextSharesOneEntry) {
  const std::string text = Unique("shared", 1);
  const size_t before = InternedString::LiveEntries();
  InternedString a(text);
  InternedString b{std::string_view(text)};
  EXPECT_EQ(InternedString::LiveEntries(), before + 1);
  EXPECT_EQ(a.data(), b.data()) << "one block for both";
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.view(), text);
  EXPECT_EQ(a.hash(), std::hash<std::string_view>()(text));
}

TEST(InternedStringTest, EntryIsFreedWithTheLastReference) {
  const size_t before = InternedString::LiveEntries();
  {
    InternedString a(Unique("freed", 2));
    InternedString copy = a;
    InternedString moved = std::move(copy);
    EXPECT_EQ(InternedString::LiveEntries(), before + 1);
    a = InternedString();
    EXPECT_EQ(InternedString::LiveEntries(), before + 1) << "moved still holds it";
  }
  EXPECT_EQ(InternedString::LiveEntries(), before);
}

TEST(InternedStringTest, AssignmentReleasesTheOldValue) {
  const size_t before = InternedString::LiveEntries();
  InternedString a(Unique("old", 3));
  a = Unique("new", 3);
  EXPECT_EQ(InternedString::LiveEntries(), before + 1);
  a = a;  // self-assignment keeps the value
  EXPECT_EQ(a.view(), Unique("new", 3));
}

TEST(InternedStringTest, ComparesWithEveryStringType) {
  InternedString web("web");
  const std::string s = "web";
  EXPECT_TRUE(web == "web");
  EXPECT_TRUE("web" == web);
  EXPECT_TRUE(web == s);
  EXPECT_TRUE(s == web);
  EXPECT_TRUE(web == std::string_view("web"));
  EXPECT_TRUE(web != "api");
  EXPECT_TRUE(InternedString("a") < InternedString("b"));
  EXPECT_TRUE(InternedString("a") < "b");
  EXPECT_TRUE("a" < InternedString("b"));
  EXPECT_TRUE(InternedString("ab") > InternedString("a"));
  EXPECT_TRUE(InternedString() < InternedString("a"));
}

TEST(InternedStringTest, OrdersByContentInSortedContainers) {
  std::set<InternedString, std::less<>> set = {"zone", "app", "tier", "app"};
  std::vector<std::string> order(set.begin(), set.end());
  EXPECT_EQ(order, (std::vector<std::string>{"app", "tier", "zone"}));
  EXPECT_NE(set.find(std::string_view("tier")), set.end()) << "heterogeneous lookup";
  std::unordered_set<InternedString> hashed = {"a", "b", "a"};
  EXPECT_EQ(hashed.size(), 2u);
}

TEST(InternedStringTest, LabelsFindByAnyStringType) {
  Labels labels;
  labels["app"] = "web";
  labels.emplace("tier", "frontend");
  EXPECT_EQ(labels.at("app"), "web");
  const std::string key = "tier";
  ASSERT_NE(labels.find(key), labels.end());
  EXPECT_EQ(labels.find(std::string_view("missing")), labels.end());
  EXPECT_EQ(labels.begin()->first, "app");
}

TEST(InternedStringTest, JsonAndStreams) {
  nlohmann::json j = InternedString("gpu");
  EXPECT_EQ(j, "gpu");
  EXPECT_EQ(j.get<InternedString>(), "gpu");
  std::ostringstream os;
  os << InternedString("nvidia.com/gpu");
  EXPECT_EQ(os.str(), "nvidia.com/gpu");
  EXPECT_EQ(fmt::format("[{}]", InternedString("x")), "[x]");
  EXPECT_EQ("a/" + InternedString("b"), "a/b");
}

TEST(InternedStringTest, ConcurrentInterningAndReleaseKeepCountsExact) {
  // Threads intern, copy and drop the same few strings; afterwards none may be left behind
  // (a lost count leaks an entry, a double release frees one twice: ASan sees that).
  const size_t before = InternedString::LiveEntries();
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([t] {
      std::vector<InternedString> held;
      for (int i = 0; i < 20000; ++i) {
        held.emplace_back(Unique("race", i % 7));
        if (i % 3 == 0) held.push_back(held[static_cast<size_t>(i + t) % held.size()]);
        if (held.size() > 50) held.erase(held.begin(), held.begin() + 25);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(InternedString::LiveEntries(), before);
}

}  // namespace
}  // namespace gpufleet::core
