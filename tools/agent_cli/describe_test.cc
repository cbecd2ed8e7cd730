#include "tools/agent_cli/describe.h"

#include <string>

#include "gtest/gtest.h"
#include "proto/zen/agent/worker_agent.pb.h"
#include "tools/agent_cli/testdata/describe_test.pb.h"

namespace zen::agent_cli {
namespace {

namespace pb = ::google::protobuf;

absl::string_view NoWireName(const pb::MethodDescriptor*) { return {}; }

TEST(DescribeFileTest, PrintsServicesOptionsAndEveryField) {
  const pb::FileDescriptor* file =
      testing::GetThingRequest::descriptor()->file();
  EXPECT_EQ(
      DescribeFile(file,
                   [](const pb::MethodDescriptor* method) {
                     return method->name() == "GetThing"
                                ? absl::string_view("get_thing")
                                : absl::string_view();
                   }),
      R"(service zen.agent_cli.testing.Things (tools/agent_cli/testdata/describe_test.proto)
  get_thing: GetThing(zen.agent_cli.testing.GetThingRequest) returns (zen.agent_cli.testing.Thing)
    args: positional [thingId, detail] or kwargs
    result: the response object
  things: ListThings(zen.agent_cli.testing.ListThingsRequest) returns (zen.agent_cli.testing.ListThingsResponse)
    args: kwargs only
    result: the bare value of things; null when empty

message zen.agent_cli.testing.GetThingRequest
  thingId  string
  detail   optional bool
message zen.agent_cli.testing.Thing
  id      string
  kind    zen.agent_cli.testing.Kind
  parts   repeated zen.agent_cli.testing.Thing.Part
  counts  map<string, int32>
  shelf   string (oneof where)
  box     int64 (oneof where)
  extra   google.protobuf.Value
  raw     string, raw JSON
message zen.agent_cli.testing.Thing.Part
  name  string
message zen.agent_cli.testing.ListThingsRequest
  (no fields)
message zen.agent_cli.testing.ListThingsResponse
  things  repeated zen.agent_cli.testing.Thing
message zen.agent_cli.testing.Unused
  big  uint64
)");
}

TEST(DescribeFileTest, UnknownWireNameWithoutOptionIsMarked) {
  const std::string text =
      DescribeFile(testing::GetThingRequest::descriptor()->file(), NoWireName);
  EXPECT_NE(text.find("  ?: GetThing("), std::string::npos) << text;
  EXPECT_NE(text.find("  things: ListThings("), std::string::npos) << text;
}

TEST(DescribeFileTest, ListsEveryWorkerAgentMethodAndMessage) {
  const pb::FileDescriptor* file = agent::PingRequest::descriptor()->file();
  const std::string text = DescribeFile(file, NoWireName);
  const pb::ServiceDescriptor* service = file->FindServiceByName("WorkerAgent");
  ASSERT_NE(service, nullptr);
  for (int i = 0; i < service->method_count(); ++i) {
    EXPECT_NE(text.find(": " + service->method(i)->name() + "("),
              std::string::npos)
        << service->method(i)->name();
  }
  for (int i = 0; i < file->message_type_count(); ++i) {
    EXPECT_NE(text.find("message " + file->message_type(i)->full_name() + "\n"),
              std::string::npos)
        << file->message_type(i)->full_name();
  }
  EXPECT_EQ(text, DescribeFile(file, NoWireName));  // Deterministic.
}

}  // namespace
}  // namespace zen::agent_cli
