#include "tools/codegen/layout.h"

#include "gtest/gtest.h"

namespace zen::codegen {
namespace {

TEST(LayoutCallTest, KeepsWhatFitsOnOneLine) {
  EXPECT_EQ(LayoutCall(2, "void", "F", {"int a", "int b"}, ");"),
            "  void F(int a, int b);\n");
  EXPECT_EQ(LayoutCall(0, "", "G", {}, ");"), "G();\n");
}

TEST(LayoutCallTest, AlignsArgumentsAfterTheParenthesisWhenTheyFit) {
  EXPECT_EQ(
      LayoutCall(4, "virtual ::absl::Status", "Ping",
                 {"::zen::codegen_runtime::ServerContext* context",
                  "const ::zen::agent::PingRequest& request",
                  "::zen::agent::PingResponse* response"},
                 ");", CallKind::kDeclaration),
      "    virtual ::absl::Status Ping(::zen::codegen_runtime::ServerContext* "
      "context,\n"
      "                                const ::zen::agent::PingRequest& "
      "request,\n"
      "                                ::zen::agent::PingResponse* "
      "response);\n");
}

TEST(LayoutCallTest, BreaksAfterTheParenthesisWhenAlignedArgumentsDoNotFit) {
  EXPECT_EQ(LayoutCall(4, "virtual ::absl::Status", "UpdatedSettings",
                       {"::zen::codegen_runtime::ServerContext* context",
                        "const ::zen::agent::UpdatedSettingsRequest& request",
                        "::zen::agent::UpdatedSettingsResponse* response"},
                       ");", CallKind::kDeclaration),
            "    virtual ::absl::Status UpdatedSettings(\n"
            "        ::zen::codegen_runtime::ServerContext* context,\n"
            "        const ::zen::agent::UpdatedSettingsRequest& request,\n"
            "        ::zen::agent::UpdatedSettingsResponse* response);\n");
}

TEST(LayoutCallTest, PacksArgumentsGreedily) {
  EXPECT_EQ(LayoutCall(2, "", "::zen::codegen_runtime::RegisterUnary",
                       {"server", "WorkerAgent_CalculateRateLimitsCodec()",
                        "this", "&Service::CalculateRateLimits"},
                       ");"),
            "  ::zen::codegen_runtime::RegisterUnary(server,\n"
            "                                        "
            "WorkerAgent_CalculateRateLimitsCodec(),\n"
            "                                        this, "
            "&Service::CalculateRateLimits);\n");
}

TEST(LayoutCallTest, PutsAReturnTypeOnItsOwnLineOnlyWhenThatHelps) {
  EXPECT_EQ(
      LayoutCall(0,
                 "::absl::StatusOr<::zen::agent::CalculateRateLimitsResponse>",
                 "WorkerAgent::Stub::CalculateRateLimits",
                 {"const ::zen::agent::CalculateRateLimitsRequest& request",
                  "const ::zen::rpc::CallOptions& options"},
                 ") {", CallKind::kDeclaration),
      "::absl::StatusOr<::zen::agent::CalculateRateLimitsResponse>\n"
      "WorkerAgent::Stub::CalculateRateLimits(\n"
      "    const ::zen::agent::CalculateRateLimitsRequest& request,\n"
      "    const ::zen::rpc::CallOptions& options) {\n");
}

TEST(LayoutCallTest, SplitsAnArgumentBetweenTypeAndName) {
  EXPECT_EQ(LayoutCall(4, "void", "PutDocumentAsync",
                       {"const ::zen::rpc::CallOptions& options",
                        "Callback<::zen::golden::v1::PutDocumentResponseWith"
                        "AMuchLongerName> done"},
                       ");", CallKind::kDeclaration),
            "    void PutDocumentAsync(\n"
            "        const ::zen::rpc::CallOptions& options,\n"
            "        Callback<::zen::golden::v1::PutDocumentResponseWithAMuch"
            "LongerName>\n"
            "            done);\n");
}

TEST(LayoutCallTest, BreaksALongTemplatedCallAfterItsAngleBracket) {
  EXPECT_EQ(
      LayoutCall(2, "return",
                 "::zen::codegen_runtime::CallUnary<::zen::codegen::testdata::"
                 "golden::v1::HelloReply>",
                 {"channel_", "Greeter_SayHelloCodec()", "request", "options"},
                 ");"),
      "  return ::zen::codegen_runtime::CallUnary<\n"
      "      ::zen::codegen::testdata::golden::v1::HelloReply>(\n"
      "      channel_, Greeter_SayHelloCodec(), request, options);\n");
}

TEST(LayoutAssignmentTest, BreaksAfterTheEqualsSignWhenTooLong) {
  EXPECT_EQ(LayoutAssignment(2, "static constexpr int kX", "1"),
            "  static constexpr int kX = 1;\n");
  EXPECT_EQ(LayoutAssignment(2,
                             "static constexpr ::absl::string_view "
                             "kUpdatedSettingsMethodName",
                             "\"updated_settings\""),
            "  static constexpr ::absl::string_view "
            "kUpdatedSettingsMethodName =\n"
            "      \"updated_settings\";\n");
}

TEST(LayoutCommentTest, KeepsLinesThatFitAndRewrapsParagraphsThatDoNot) {
  EXPECT_EQ(LayoutComment(2, {"Short.", "", "  Indented."}),
            "  // Short.\n  //\n  //   Indented.\n");
  const std::string long_line =
      "A paragraph with one line that is far too long to fit into eighty "
      "columns once indented";
  EXPECT_EQ(LayoutComment(4, {long_line, "and its next line.", "", "Kept."}),
            "    // A paragraph with one line that is far too long to fit "
            "into eighty columns\n"
            "    // once indented and its next line.\n"
            "    //\n"
            "    // Kept.\n");
}

TEST(CommentLinesTest, StripsProtocsLeadingSpaceAndBlankEnds) {
  EXPECT_EQ(CommentLines(" First.\n\n   Indented.\n\n"),
            (std::vector<std::string>{"First.", "", "  Indented."}));
  EXPECT_TRUE(CommentLines("").empty());
}

}  // namespace
}  // namespace zen::codegen
