// Lines of a watch stream read as events: what a server (or a proxy in between) may send,
// including ERROR events whose fields have the wrong types, never throws.
#include <gtest/gtest.h>

#include "remotecode/kube/config.h"
#include "remotecode/kube/exec_credential.h"
#include "remotecode/kube/watch.h"

using rc::kube::decode_watch_line;
using Kind = rc::kube::WatchLine::Kind;

TEST(WatchLine, AnEventCarriesItsObjectAndResourceVersion) {
  auto w = decode_watch_line(
      R"({"type":"ADDED","object":{"metadata":{"name":"a","resourceVersion":"7"}}})");
  EXPECT_EQ(w.kind, Kind::Event);
  EXPECT_EQ(w.event.type, "ADDED");
  EXPECT_EQ(w.event.object["metadata"]["name"], "a");
  EXPECT_EQ(w.resource_version, "7");
}

TEST(WatchLine, A410EndsTheWatchAndOtherErrorsAreFailures) {
  EXPECT_EQ(decode_watch_line(R"({"type":"ERROR","object":{"code":410}})").kind, Kind::Expired);
  auto w = decode_watch_line(R"({"type":"ERROR","object":{"code":500,"message":"boom"}})");
  EXPECT_EQ(w.kind, Kind::Error);
  EXPECT_EQ(w.code, 500);
  EXPECT_EQ(w.message, "boom");
}

TEST(WatchLine, FieldsOfTheWrongTypeAreIgnoredNotThrown) {
  // Once, each of these threw nlohmann::type_error out of the stream's callback.
  auto w = decode_watch_line(R"({"type":"ERROR","object":{"code":"410","message":7}})");
  EXPECT_EQ(w.kind, Kind::Error);
  EXPECT_EQ(w.code, 0);
  EXPECT_EQ(w.message, "");
  auto e = decode_watch_line(R"({"type":"MODIFIED","object":{"metadata":{"resourceVersion":12}}})");
  EXPECT_EQ(e.kind, Kind::Event);
  EXPECT_EQ(e.resource_version, "");
}

TEST(WatchLine, WhatIsNotAnEventSaysSo) {
  for (const char* line : {"", "not json", "[1,2]", R"({"type":"ADDED"})",
                           R"({"type":1,"object":{}})", R"({"type":"ADDED","object":[]})"})
    EXPECT_EQ(decode_watch_line(line).kind, Kind::NotAnEvent) << line;
}

TEST(ExecCredential, ReadsATokenAndRefusesWhatIsWrongWithoutQuotingIt) {
  auto c = rc::kube::parse_exec_credential(
      R"({"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential",)"
      R"("status":{"token":"secret-token","expirationTimestamp":"2030-01-01T00:00:00Z"}})",
      "client.authentication.k8s.io/v1");
  EXPECT_EQ(c.token, "secret-token");
  EXPECT_TRUE(c.expiry.has_value());
  try {
    rc::kube::parse_exec_credential(R"({"apiVersion":"client.authentication.k8s.io/v1",)"
                                    R"("kind":"ExecCredential","status":{"token":5}})",
                                    "client.authentication.k8s.io/v1");
    ADD_FAILURE() << "a number as the token was accepted";
  } catch (const rc::kube::CredentialError& e) {
    EXPECT_EQ(std::string(e.what()), "status.token must be a string");
  }
  try {
    rc::kube::parse_exec_credential("secret-token-not-json", "client.authentication.k8s.io/v1");
    ADD_FAILURE();
  } catch (const rc::kube::CredentialError& e) {
    EXPECT_EQ(std::string(e.what()).find("secret"), std::string::npos) << e.what();
  }
}

TEST(ExecCredential, AnExpiryBeyondWhatTheClockHoldsIsFarAway) {
  // Found by fuzz_kube_config: the year 9488 overflowed the conversion to nanoseconds.
  auto c = rc::kube::parse_exec_credential(
      R"({"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential",)"
      R"("status":{"token":"t","expirationTimestamp":"9488-01-01T00:00:00Z"}})",
      "client.authentication.k8s.io/v1");
  ASSERT_TRUE(c.expiry.has_value());
  EXPECT_GT(*c.expiry, std::chrono::system_clock::now() + std::chrono::hours(24 * 365 * 50));
}

TEST(ExecCredential, ANumberTooLargeForAnyTypeIsACredentialError) {
  // Found by fuzz_kube_config: json::parse threw out_of_range, which no caller expected.
  EXPECT_THROW(rc::kube::parse_exec_credential(R"({"kind":33333333e40603})",
                                               "client.authentication.k8s.io/v1"),
               rc::kube::CredentialError);
}
