// How AWS errors become typed errors the provisioner acts on, and the Query encoding.
#include "cloud/aws/api_client.h"

#include <gtest/gtest.h>

#include "cloud/cloud_provider.h"

namespace gpufleet::cloud::aws {
namespace {

ErrorKind KindOf(const std::string& code, long status = 400) {
  return Classify(ToStatus("EC2", "CreateFleet", {.http_status = status, .code = code, .message = "m"}));
}

TEST(AwsErrorTest, EveryFamilyMapsToWhatTheProvisionerDoes) {
  EXPECT_EQ(KindOf("RequestLimitExceeded", 503), ErrorKind::kRetryable);
  EXPECT_EQ(KindOf("Throttling"), ErrorKind::kRetryable);
  EXPECT_EQ(KindOf("InternalError", 500), ErrorKind::kRetryable);
  EXPECT_EQ(KindOf("Unavailable", 503), ErrorKind::kRetryable);
  EXPECT_EQ(KindOf("InsufficientInstanceCapacity", 500), ErrorKind::kInsufficientCapacity);  // not retried
  EXPECT_EQ(KindOf("ReservationCapacityExceeded"), ErrorKind::kInsufficientCapacity);
  EXPECT_EQ(KindOf("MaxSpotInstanceCountExceeded"), ErrorKind::kInsufficientCapacity);
  EXPECT_EQ(KindOf("InsufficientFreeAddressesInSubnet"), ErrorKind::kInsufficientCapacity);
  EXPECT_EQ(KindOf("AuthFailure", 401), ErrorKind::kUnauthorized);
  EXPECT_EQ(KindOf("UnauthorizedOperation", 403), ErrorKind::kUnauthorized);
  EXPECT_EQ(KindOf("ExpiredToken"), ErrorKind::kUnauthorized);
  EXPECT_EQ(KindOf("InvalidParameterValue"), ErrorKind::kInvalidConfiguration);
  EXPECT_EQ(KindOf("MissingParameter"), ErrorKind::kInvalidConfiguration);
  EXPECT_EQ(KindOf("UnknownParameter"), ErrorKind::kInvalidConfiguration);
  EXPECT_EQ(KindOf("InvalidLaunchTemplateName.MalformedException"), ErrorKind::kInvalidConfiguration);
  EXPECT_EQ(KindOf("InvalidInstanceID.NotFound"), ErrorKind::kNotFound);
  EXPECT_EQ(KindOf("InvalidAMIID.NotFound"), ErrorKind::kNotFound);
  EXPECT_EQ(KindOf("ParameterNotFound"), ErrorKind::kNotFound);
  const Status s = ToStatus("EC2", "CreateFleet", {.http_status = 400, .code = "X", .message = "why", .request_id = "r-1"});
  EXPECT_EQ(s.message(), "EC2 CreateFleet: X: why (request r-1)");
}

TEST(QueryParamsTest, ListsFiltersAndEncoding) {
  QueryParams p;
  p.AddList("InstanceId", {"i-1", "i-2"}).AddFilter("tag:Name", {"a b", "c/d"}).AddFilter("state", {"active"});
  EXPECT_EQ(p.Encode(),
            "InstanceId.1=i-1&InstanceId.2=i-2&Filter.1.Name=tag%3AName&Filter.1.Value.1=a%20b&Filter.1.Value.2=c%2Fd"
            "&Filter.2.Name=state&Filter.2.Value.1=active");
}

}  // namespace
}  // namespace gpufleet::cloud::aws
