#include "tools/codegen/names.h"

#include "gtest/gtest.h"

namespace zen::codegen {
namespace {

TEST(SnakeCaseTest, SplitsWordsAtCaseChanges) {
  EXPECT_EQ(SnakeCase("Ping"), "ping");
  EXPECT_EQ(SnakeCase("UpdatedSettings"), "updated_settings");
  EXPECT_EQ(SnakeCase("SendCollectorEvents"), "send_collector_events");
  EXPECT_EQ(SnakeCase("GetHTTPStatus"), "get_http_status");
  EXPECT_EQ(SnakeCase("HTTP"), "http");
  EXPECT_EQ(SnakeCase("V2Ping"), "v2_ping");
  EXPECT_EQ(SnakeCase("GetV2Thing"), "get_v2_thing");
  EXPECT_EQ(SnakeCase("already_snake"), "already_snake");
  EXPECT_EQ(SnakeCase("Mixed_Case"), "mixed_case");
}

TEST(CppTypeNameTest, QualifiesFromTheGlobalNamespace) {
  EXPECT_EQ(CppTypeName("zen.agent.PingRequest"), "::zen::agent::PingRequest");
  EXPECT_EQ(CppTypeName("pkg.Outer.Inner"), "::pkg::Outer::Inner");
  EXPECT_EQ(CppTypeName("Bare"), "::Bare");
}

TEST(FileNamesTest, DeriveFromTheProtoPath) {
  EXPECT_EQ(StripProto("proto/zen/agent/worker_agent.proto"),
            "proto/zen/agent/worker_agent");
  EXPECT_EQ(HeaderGuard("proto/zen/agent/worker_agent.zenrpc.h"),
            "PROTO_ZEN_AGENT_WORKER_AGENT_ZENRPC_H_");
  EXPECT_EQ(CppNamespace("zen.golden.v1"), "zen::golden::v1");
  EXPECT_EQ(CppNamespace(""), "");
}

TEST(IsCppKeywordTest, KnowsKeywordsOnly) {
  EXPECT_TRUE(IsCppKeyword("delete"));
  EXPECT_TRUE(IsCppKeyword("and_eq"));
  EXPECT_FALSE(IsCppKeyword("Delete"));
  EXPECT_FALSE(IsCppKeyword("ping"));
}

}  // namespace
}  // namespace zen::codegen
