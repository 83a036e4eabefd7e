// Event recorder against the embedded API server; the correlator's windows run on a FakeClock.
#include "kube/event_recorder.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "embedded_server.h"
#include "core/time_format.h"
#include "testing/status_matchers.h"

namespace gpufleet::kube {
namespace {

using json = nlohmann::json;
const Gvr kEvents{"", "v1", "events", true};

class EventRecorderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto started = testing::StartEmbeddedServer("events");
    ASSERT_TRUE(started.ok()) << started.status();
    server_ = std::move(started->server);
    auto transport = Transport::Create(started->config, {.qps = 0}, core::RealClock());
    ASSERT_TRUE(transport.ok()) << transport.status();
    transport_ = std::move(transport).value();
    client_ = std::make_unique<Client>(*transport_);
    pod_ = {{"apiVersion", "v1"}, {"kind", "Pod"},
            {"metadata", {{"name", "nvidia-smi"}, {"namespace", "default"}, {"uid", "u-1"}}}};
  }
  void TearDown() override { server_->Stop(); }
  json Events() { return client_->List(kEvents, "default", {}).value()["items"]; }

  core::FakeClock clock_;
  std::unique_ptr<apiserver::ApiServer> server_;
  std::unique_ptr<Transport> transport_;
  std::unique_ptr<Client> client_;
  json pod_;
};

TEST_F(EventRecorderTest, WritesAnEventAndCountsRepeats) {
  EventRecorder recorder(*client_, clock_, "gpufleet-agent", "node-1");
  recorder.Event(pod_, "Warning", "XidError", "GPU 0 reported Xid 79");
  recorder.Flush();
  json events = Events();
  ASSERT_EQ(events.size(), 1u);
  const json e = events[0];  // a copy: `events` is reassigned below
  EXPECT_EQ(e["involvedObject"]["name"], "nvidia-smi");
  EXPECT_EQ(e["involvedObject"]["uid"], "u-1");
  EXPECT_EQ(e["involvedObject"]["kind"], "Pod");
  EXPECT_EQ(e["type"], "Warning");
  EXPECT_EQ(e["reason"], "XidError");
  EXPECT_EQ(e["source"], json({{"component", "gpufleet-agent"}, {"host", "node-1"}}));
  EXPECT_EQ(e["count"], 1);
  EXPECT_TRUE(e["metadata"]["name"].get<std::string>().starts_with("nvidia-smi."));
  clock_.Advance(std::chrono::seconds(30));
  recorder.Event(pod_, "Warning", "XidError", "GPU 0 reported Xid 79");
  recorder.Event(pod_, "Warning", "XidError", "GPU 0 reported Xid 79");
  recorder.Flush();
  events = Events();
  ASSERT_EQ(events.size(), 1u);  // the same Event, counted
  EXPECT_EQ(events[0]["count"], 3);
  EXPECT_EQ(events[0]["lastTimestamp"], core::FormatRfc3339(clock_.Now()));
  EXPECT_EQ(events[0]["firstTimestamp"], e["firstTimestamp"]);
}

TEST_F(EventRecorderTest, AggregatesSimilarEventsAfterTenMessages) {
  EventRecorder recorder(*client_, clock_, "gpufleet-provisioner");
  for (int i = 0; i < 12; ++i) {
    recorder.Event(pod_, "Normal", "FailedScheduling", "no capacity in zone " + std::to_string(i));
  }
  recorder.Flush();
  json events = Events();
  ASSERT_EQ(events.size(), 10u);  // nine distinct, then one combined event counted three times
  int combined = 0;
  for (const auto& e : events) {
    if (e["message"].get<std::string>().starts_with("(combined from similar events): ")) {
      ++combined;
      EXPECT_EQ(e["count"], 3);
      EXPECT_EQ(e["message"], "(combined from similar events): no capacity in zone 11");
    }
  }
  EXPECT_EQ(combined, 1);
}

TEST_F(EventRecorderTest, SpamFilterDropsBeyondTheBurstPerObject) {
  EventRecorder recorder(*client_, clock_, "gpufleet-agent");
  for (int i = 0; i < 30; ++i) {
    recorder.Event(pod_, "Normal", "Reason" + std::to_string(i), "m");  // distinct: no aggregation
  }
  recorder.Flush();
  EXPECT_EQ(Events().size(), 25u);
  EXPECT_EQ(recorder.Dropped(), 5);
  clock_.Advance(std::chrono::seconds(300));  // one token back
  recorder.Event(pod_, "Normal", "Later", "m");
  recorder.Event(pod_, "Normal", "TooSoon", "m");
  recorder.Flush();
  EXPECT_EQ(Events().size(), 26u);
  // Another object has its own budget.
  json other = pod_;
  other["metadata"]["name"] = "other";
  other["metadata"]["uid"] = "u-2";
  recorder.Event(other, "Normal", "Started", "m");
  recorder.Flush();
  EXPECT_EQ(Events().size(), 27u);
}

}  // namespace
}  // namespace gpufleet::kube
