// Leader election against the embedded API server; time is a FakeClock, so lease expiry and
// renew deadlines are exact and nothing sleeps.
#include "kube/leader_election.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "embedded_server.h"
#include "testing/status_matchers.h"

namespace gpufleet::kube {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;
const Gvr kLeases{"coordination.k8s.io", "v1", "leases", true};

// Polls (real time, bounded) until `cond` holds.
bool Eventually(const std::function<bool()>& cond) {
  for (int i = 0; i < 1000; ++i) {
    if (cond()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return cond();
}

class LeaderElectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto started = testing::StartEmbeddedServer("leader");
    ASSERT_TRUE(started.ok()) << started.status();
    server_ = std::move(started->server);
    auto transport = Transport::Create(started->config, {.max_retries = 0}, core::RealClock());
    ASSERT_TRUE(transport.ok()) << transport.status();
    transport_ = std::move(transport).value();
    client_ = std::make_unique<Client>(*transport_);
  }
  void TearDown() override { server_->Stop(); }

  std::unique_ptr<LeaderElector> Elector(const std::string& id, std::atomic<bool>* leading,
                                         bool release = true, std::atomic<int>* stopped = nullptr) {
    LeaderElectionConfig c;
    c.lease_namespace = "default";
    c.lease_name = "gpufleet-controller";
    c.identity = id;
    c.release_on_cancel = release;
    c.on_started_leading = [leading](std::stop_token stop) {
      *leading = true;
      while (!stop.stop_requested()) std::this_thread::sleep_for(1ms);
      *leading = false;
    };
    c.on_stopped_leading = [stopped] { if (stopped) ++*stopped; };
    auto e = LeaderElector::Create(*client_, c, clock_);
    EXPECT_TRUE(e.ok()) << e.status();
    return std::move(e).value();
  }
  json Lease() { return client_->Get(kLeases, "default", "gpufleet-controller").value(); }

  core::FakeClock clock_;
  std::unique_ptr<apiserver::ApiServer> server_;
  std::unique_ptr<Transport> transport_;
  std::unique_ptr<Client> client_;
};

TEST_F(LeaderElectionTest, OneLeaderThenTakeoverWhenTheLeaseExpires) {
  std::atomic<bool> a_leads{false}, b_leads{false};
  auto a = Elector("a", &a_leads, /*release=*/false);  // as if killed: the lease is left held
  auto b = Elector("b", &b_leads);
  std::jthread ta([&](std::stop_token s) { a->Run(s); });
  ASSERT_TRUE(Eventually([&] { return a_leads.load(); }));
  std::jthread tb([&](std::stop_token s) { b->Run(s); });
  ASSERT_TRUE(clock_.AwaitWaiters(2, 10s));  // a renews, b campaigns: both asleep
  EXPECT_FALSE(b->IsLeader());
  EXPECT_EQ(b->ObservedLeader(), "a");
  ta.request_stop();
  ta.join();
  EXPECT_EQ(Lease()["spec"]["holderIdentity"], "a");  // not released
  // b saw the record last change at t0; it may take over LeaseDuration after that, not before.
  clock_.Advance(14s);
  ASSERT_TRUE(clock_.AwaitWaiters(1, 10s));
  EXPECT_FALSE(b->IsLeader());
  clock_.Advance(3s);  // 17 s > 15 s: expired; b's next retry (≤ 2.4 s away) takes it
  ASSERT_TRUE(Eventually([&] { return b_leads.load(); }));
  json lease = Lease();
  EXPECT_EQ(lease["spec"]["holderIdentity"], "b");
  EXPECT_EQ(lease["spec"]["leaseTransitions"], 1);
  EXPECT_EQ(lease["spec"]["leaseDurationSeconds"], 15);
}

TEST_F(LeaderElectionTest, ReleasedLeaseIsTakenWithoutWaitingForExpiry) {
  std::atomic<bool> a_leads{false}, b_leads{false};
  auto a = Elector("a", &a_leads);
  auto b = Elector("b", &b_leads);
  std::jthread ta([&](std::stop_token s) { a->Run(s); });
  ASSERT_TRUE(Eventually([&] { return a_leads.load(); }));
  std::jthread tb([&](std::stop_token s) { b->Run(s); });
  ASSERT_TRUE(clock_.AwaitWaiters(2, 10s));
  ta.request_stop();
  ta.join();
  EXPECT_EQ(Lease()["spec"]["holderIdentity"], "");
  clock_.Advance(3s);  // one retry period, far less than the 15 s lease
  ASSERT_TRUE(Eventually([&] { return b_leads.load(); }));
}

TEST_F(LeaderElectionTest, StepsDownWhenItCannotRenew) {
  std::atomic<bool> a_leads{false};
  std::atomic<int> stopped{0};
  auto a = Elector("a", &a_leads, true, &stopped);
  std::jthread ta([&](std::stop_token s) { a->Run(s); });
  ASSERT_TRUE(Eventually([&] { return a_leads.load(); }));
  // Another process overwrites the lease (as after a partition): a cannot renew any more.
  json lease = Lease();
  lease["spec"]["holderIdentity"] = "intruder";
  lease["spec"]["renewTime"] = "2030-01-01T00:00:00.000000Z";
  GF_ASSERT_OK(client_->Update(kLeases, "default", lease).status());
  for (int i = 0; i < 6 && a->IsLeader(); ++i) {  // renew attempts every 2 s; deadline 10 s
    ASSERT_TRUE(clock_.AwaitWaiters(1, 10s));
    clock_.Advance(2s);
    Eventually([&] { return clock_.Waiters() == 1 || !a->IsLeader(); });
  }
  ASSERT_TRUE(Eventually([&] { return !a->IsLeader() && stopped == 1; }));
  EXPECT_FALSE(a_leads);  // the leading work was told to stop
  EXPECT_EQ(Lease()["spec"]["holderIdentity"], "intruder");
}

TEST(LeaderElectionConfig, RejectsInconsistentTimings) {
  core::FakeClock clock;
  RestConfig rc;
  rc.server = "https://127.0.0.1:1";
  auto t = Transport::Create(rc, {}, clock, nullptr);
  ASSERT_TRUE(t.ok());
  Client client(**t);
  LeaderElectionConfig c{.lease_name = "l", .identity = "i", .on_started_leading = [](std::stop_token) {}};
  c.renew_deadline = 15s;  // not below the lease duration
  EXPECT_THAT(LeaderElector::Create(client, c, clock), gpufleet::testing::StatusIs(StatusCode::kInvalidArgument));
  c.renew_deadline = 2s;   // not above 1.2 × retry period
  EXPECT_THAT(LeaderElector::Create(client, c, clock), gpufleet::testing::StatusIs(StatusCode::kInvalidArgument));
  c.renew_deadline = 10s;
  EXPECT_TRUE(LeaderElector::Create(client, c, clock).ok());
}

}  // namespace
}  // namespace gpufleet::kube
