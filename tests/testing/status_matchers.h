// GoogleTest matchers for Status and Result: IsOk() and StatusIs(code[, message matcher]).
// There is deliberately no "is not OK" matcher: tests name the exact error code.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "core/status.h"

namespace gpufleet::testing {

inline const Status& GetStatus(const Status& s) { return s; }
template <typename T>
Status GetStatus(const Result<T>& r) {
  return r.status();
}

MATCHER(IsOk, "is OK") {
  Status s = ::gpufleet::testing::GetStatus(arg);
  if (!s.ok()) *result_listener << "status is " << s.ToString();
  return s.ok();
}

MATCHER_P(StatusIs, code, "has code " + std::string(StatusCodeName(code))) {
  Status s = ::gpufleet::testing::GetStatus(arg);
  *result_listener << "status is " << s.ToString();
  return s.code() == code;
}

MATCHER_P2(StatusIs, code, message_matcher,
           "has code " + std::string(StatusCodeName(code)) + " and a matching message") {
  Status s = ::gpufleet::testing::GetStatus(arg);
  *result_listener << "status is " << s.ToString();
  return s.code() == code &&
         ::testing::Matches(message_matcher)(std::string(s.message()));
}

}  // namespace gpufleet::testing

#define GF_ASSERT_OK(expr) ASSERT_THAT((expr), ::gpufleet::testing::IsOk())
#define GF_EXPECT_OK(expr) EXPECT_THAT((expr), ::gpufleet::testing::IsOk())
// `GF_ASSERT_OK_AND_ASSIGN(auto q, Quantity::Parse("1Gi"));`
#define GF_ASSERT_OK_AND_ASSIGN(lhs, expr) \
  GF_ASSERT_OK_AND_ASSIGN_IMPL_(GF_CONCAT_(gf_test_result_, __LINE__), lhs, expr)
#define GF_ASSERT_OK_AND_ASSIGN_IMPL_(result, lhs, expr) \
  auto result = (expr);                                  \
  GF_ASSERT_OK(result);                                  \
  lhs = std::move(result).value()
