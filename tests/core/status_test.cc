#include "core/status.h"

#include <gtest/gtest.h>

#include <string>

#include "testing/status_matchers.h"

namespace gpufleet {
namespace {

using ::gpufleet::testing::IsOk;
using ::gpufleet::testing::StatusIs;
using ::testing::HasSubstr;

TEST(Status, DefaultIsOk) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kOk);
  EXPECT_EQ(s.ToString(), "OK");
}

TEST(Status, ErrorCarriesCodeAndMessage) {
  Status s = InvalidArgumentError("quantity \"1.2.3\": bad");
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(s, StatusIs(StatusCode::kInvalidArgument, HasSubstr("1.2.3")));
  EXPECT_EQ(s.ToString(), "INVALID_ARGUMENT: quantity \"1.2.3\": bad");
}

TEST(Status, OkCodeWithMessageIsOk) { EXPECT_TRUE(Status(StatusCode::kOk, "ignored").ok()); }

TEST(Status, WithContextPrefixesAndKeepsCode) {
  Status s = NotFoundError("pod x").WithContext("binding");
  EXPECT_THAT(s, StatusIs(StatusCode::kNotFound, "binding: pod x"));
  EXPECT_TRUE(OkStatus().WithContext("ctx").ok());
}

TEST(Status, CopyIsDeep) {
  Status a = AbortedError("conflict");
  Status b = a;
  a = OkStatus();
  EXPECT_THAT(b, StatusIs(StatusCode::kAborted, "conflict"));
}

TEST(Status, CodeNamesMatchGrpc) {
  EXPECT_EQ(StatusCodeName(StatusCode::kFailedPrecondition), "FAILED_PRECONDITION");
  EXPECT_EQ(static_cast<int>(StatusCode::kUnauthenticated), 16);
}

Result<int> Half(int x) {
  if (x % 2 != 0) return InvalidArgumentError("odd: " + std::to_string(x));
  return x / 2;
}

Result<int> Quarter(int x) {
  GF_ASSIGN_OR_RETURN(int h, Half(x));
  GF_ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

TEST(Result, HoldsValueOrError) {
  EXPECT_EQ(*Quarter(8), 2);
  EXPECT_THAT(Quarter(6), StatusIs(StatusCode::kInvalidArgument, "odd: 3"));
  EXPECT_EQ(Quarter(6).value_or(-1), -1);
}

TEST(Result, FromOkStatusIsInternalError) {
  Result<int> r = OkStatus();
  EXPECT_THAT(r, StatusIs(StatusCode::kInternal));
}

Status CheckPositive(int x) {
  if (x <= 0) return OutOfRangeError("not positive");
  return OkStatus();
}

Status CheckBoth(int a, int b) {
  GF_RETURN_IF_ERROR(CheckPositive(a));
  GF_RETURN_IF_ERROR(CheckPositive(b));
  return OkStatus();
}

TEST(Status, ReturnIfErrorPropagatesFirstFailure) {
  EXPECT_THAT(CheckBoth(1, 2), IsOk());
  EXPECT_THAT(CheckBoth(1, -2), StatusIs(StatusCode::kOutOfRange));
}

}  // namespace
}  // namespace gpufleet
