#include "tools/codegen/generator.h"

#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>

#include "gmock/gmock.h"
#include "google/protobuf/compiler/parser.h"
#include "google/protobuf/descriptor.pb.h"
#include "google/protobuf/descriptor_database.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "gtest/gtest.h"

namespace zen::codegen {
namespace {

namespace pb = google::protobuf;
using ::testing::HasSubstr;

class CollectErrors : public pb::io::ErrorCollector {
 public:
  void AddError(int line, int column, const std::string& message) override {
    errors += std::to_string(line) + ":" + std::to_string(column) + ": " +
              message + "\n";
  }
  std::string errors;
};

pb::FileDescriptorProto Parse(const std::string& name,
                              const std::string& text) {
  pb::io::ArrayInputStream input(text.data(), static_cast<int>(text.size()));
  CollectErrors errors;
  pb::io::Tokenizer tokenizer(&input, &errors);
  pb::compiler::Parser parser;
  parser.RecordErrorsTo(&errors);
  pb::FileDescriptorProto proto;
  EXPECT_TRUE(parser.Parse(&tokenizer, &proto)) << errors.errors;
  proto.set_name(name);
  return proto;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << "cannot read " << path;
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

// Collects what the generator writes.
class FakeContext : public pb::compiler::GeneratorContext {
 public:
  pb::io::ZeroCopyOutputStream* Open(const std::string& filename) override {
    return new pb::io::StringOutputStream(&files[filename]);
  }
  std::map<std::string, std::string> files;
};

constexpr char kHeader[] = R"(
syntax = "proto3";
package test.v1;
import "proto/zen/rpc/options.proto";
message M { string s = 1; }
)";

// Builds test.proto (kHeader followed by a test's text) in a pool that
// holds descriptor.proto and the real options.proto, as protoc would.
class GeneratorTest : public ::testing::Test {
 protected:
  GeneratorTest() {
    pb::FileDescriptorProto::descriptor()->file()->CopyTo(&descriptor_proto_);
    options_proto_ = Parse("proto/zen/rpc/options.proto",
                           ReadFile("proto/zen/rpc/options.proto"));
  }

  // Builds `name` from `text` in a fresh pool.
  const pb::FileDescriptor* BuildFile(const std::string& name,
                                      const std::string& text) {
    pool_.reset();
    database_ = std::make_unique<pb::SimpleDescriptorDatabase>();
    database_->Add(descriptor_proto_);
    database_->Add(options_proto_);
    database_->Add(Parse(name, text));
    pool_ = std::make_unique<pb::DescriptorPool>(database_.get());
    const pb::FileDescriptor* file = pool_->FindFileByName(name);
    EXPECT_NE(file, nullptr) << name << " does not build";
    return file;
  }

  const pb::FileDescriptor* Build(const std::string& text) {
    return BuildFile("test.proto", kHeader + text);
  }

  // Runs the generator on `text`; returns its error ("" on success).
  std::string Generate(const std::string& text,
                       const std::string& parameter = "") {
    const pb::FileDescriptor* file = Build(text);
    if (file == nullptr) return "<no file>";
    std::string error;
    if (ZenRpcGenerator().Generate(file, parameter, &context_, &error)) {
      EXPECT_EQ(error, "");
    }
    return error;
  }

  pb::FileDescriptorProto descriptor_proto_;
  pb::FileDescriptorProto options_proto_;
  std::unique_ptr<pb::SimpleDescriptorDatabase> database_;
  std::unique_ptr<pb::DescriptorPool> pool_;
  FakeContext context_;
};

TEST_F(GeneratorTest, RejectsStreamingMethods) {
  EXPECT_EQ(Generate("service Chat { rpc Talk(stream M) returns (M); }"),
            "test.proto: method Chat.Talk: streaming is not supported");
  EXPECT_EQ(Generate("service Feed { rpc Watch(M) returns (stream M); }"),
            "test.proto: method Feed.Watch: streaming is not supported");
}

TEST_F(GeneratorTest, RejectsMethodNamesTheGeneratedClassUses) {
  EXPECT_EQ(Generate("service S { rpc Stub(M) returns (M); }"),
            "test.proto: method S.Stub: the name Stub is taken by the "
            "generated class");
  EXPECT_THAT(Generate("service S { rpc RegisterOn(M) returns (M); }"),
              HasSubstr("the name RegisterOn is taken"));
  EXPECT_EQ(Generate("service S { rpc delete(M) returns (M); }"),
            "test.proto: method S.delete: a C++ keyword cannot name a method");
}

TEST_F(GeneratorTest, RejectsAMethodNamedLikeAnotherMethodsAsyncForm) {
  EXPECT_EQ(Generate("service S { rpc Get(M) returns (M);"
                     " rpc GetAsync(M) returns (M); }"),
            "test.proto: method S.GetAsync: clashes with the asynchronous "
            "form of Get");
}

TEST_F(GeneratorTest, RejectsTwoMethodsWithOneWireName) {
  EXPECT_EQ(Generate("service S { rpc GetHTTPStatus(M) returns (M);"
                     " rpc GetHttpStatus(M) returns (M); }"),
            "test.proto: method S.GetHttpStatus: wire name 'get_http_status' "
            "is already used by another method of the service");
  EXPECT_THAT(Generate("service S {"
                       " rpc A(M) returns (M) { option (zen.rpc.wire_name) ="
                       " \"x\"; }"
                       " rpc B(M) returns (M) { option (zen.rpc.wire_name) ="
                       " \"x\"; } }"),
              HasSubstr("wire name 'x' is already used"));
}

TEST_F(GeneratorTest, RejectsPositionalArgsThatAreNotFieldsOrRepeat) {
  EXPECT_EQ(Generate("service S { rpc A(M) returns (M) {"
                     " option (zen.rpc.positional_args) = \"nope\"; } }"),
            "test.proto: method S.A: positional argument 'nope' is not a "
            "field of test.v1.M");
  EXPECT_EQ(Generate("service S { rpc A(M) returns (M) {"
                     " option (zen.rpc.positional_args) = \"s\";"
                     " option (zen.rpc.positional_args) = \"s\"; } }"),
            "test.proto: method S.A: positional argument 's' is listed twice");
}

TEST_F(GeneratorTest, RejectsAResultFieldThatIsNotAField) {
  EXPECT_EQ(Generate("service S { rpc A(M) returns (M) {"
                     " option (zen.rpc.result_field) = \"items\"; } }"),
            "test.proto: method S.A: result field 'items' is not a field of "
            "test.v1.M");
}

TEST_F(GeneratorTest, RejectsRawJsonOnFieldsThatAreNotSingularStrings) {
  EXPECT_EQ(Generate("message R { int32 n = 1 [(zen.rpc.raw_json) = true]; }"
                     "service S { rpc A(R) returns (M); }"),
            "test.proto: field test.v1.R.n: (zen.rpc.raw_json) needs a "
            "singular string field");
  EXPECT_THAT(Generate("message R { repeated string v = 1 [(zen.rpc.raw_json) ="
                       " true]; } service S { rpc A(M) returns (R); }"),
              HasSubstr("needs a singular string field"));
}

TEST_F(GeneratorTest, RejectsRawJsonInNestedMessages) {
  EXPECT_EQ(Generate("message Inner { string j = 1 [(zen.rpc.raw_json) ="
                     " true]; }"
                     "message R { Inner inner = 1; }"
                     "service S { rpc A(R) returns (M); }"),
            "test.proto: field test.v1.Inner.j: (zen.rpc.raw_json) is "
            "allowed only on top-level fields of a request or response "
            "message, but test.v1.Inner is nested in test.v1.R (used by "
            "method S.A)");
}

TEST_F(GeneratorTest, RejectsRawJsonInARecursiveTopLevelMessage) {
  EXPECT_THAT(Generate("message Tree { string j = 1 [(zen.rpc.raw_json) ="
                       " true]; repeated Tree children = 2; }"
                       "service S { rpc A(Tree) returns (M); }"),
              HasSubstr("test.v1.Tree is nested in test.v1.Tree"));
}

TEST_F(GeneratorTest, RejectsRawJsonOnMessagesNoMethodSendsAtTheTopLevel) {
  EXPECT_EQ(Generate("message Loose { string j = 1 [(zen.rpc.raw_json) ="
                     " true]; }"
                     "service S { rpc A(M) returns (M); }"),
            "test.proto: field test.v1.Loose.j: (zen.rpc.raw_json) is allowed "
            "only on top-level fields of a request or response message, and "
            "test.v1.Loose is not the request or response of any method in "
            "this file");
}

TEST_F(GeneratorTest, AcceptsRawJsonInAFileWithoutServices) {
  // Another file's service may use the message at the top level.
  EXPECT_EQ(Generate("message Doc { string j = 1 [(zen.rpc.raw_json) ="
                     " true]; }"),
            "");
}

TEST_F(GeneratorTest, RejectsParameters) {
  EXPECT_EQ(Generate("", "lite"),
            "test.proto: protoc-gen-zenrpc takes no parameter (got \"lite\")");
}

TEST_F(GeneratorTest, WritesBothFilesEvenWithoutServices) {
  ASSERT_EQ(Generate(""), "");
  EXPECT_EQ(context_.files.size(), 2u);
  EXPECT_THAT(context_.files["test.zenrpc.h"],
              HasSubstr("#include \"test.pb.h\""));
  EXPECT_THAT(context_.files["test.zenrpc.cc"],
              HasSubstr("#include \"test.zenrpc.h\""));
}

TEST_F(GeneratorTest, ReadsNamesOptionsAndCommentsIntoTheModel) {
  const pb::FileDescriptor* file = Build(R"(
    message Req { optional int32 a = 1; string b = 2;
                  string doc = 3 [(zen.rpc.raw_json) = true]; }
    message Resp { repeated M items = 1;
                   string raw = 2 [(zen.rpc.raw_json) = true]; }
    // Does things.
    service Things {
      // Lists them.
      //
      // Really.
      rpc ListThemAll(Req) returns (Resp) {
        option (zen.rpc.wire_name) = "list";
        option (zen.rpc.null_when_empty) = true;
        option (zen.rpc.result_field) = "items";
        option (zen.rpc.positional_args) = "b";
        option (zen.rpc.positional_args) = "a";
      }
      rpc GetV2Thing(M) returns (M);
    }
  )");
  ASSERT_NE(file, nullptr);
  FileModel model;
  std::string error;
  ASSERT_TRUE(BuildFileModel(file, &model, &error)) << error;
  EXPECT_EQ(model.header, "test.zenrpc.h");
  EXPECT_EQ(model.header_guard, "TEST_ZENRPC_H_");
  EXPECT_EQ(model.cpp_namespace, "test::v1");
  ASSERT_EQ(model.services.size(), 1u);
  const ServiceModel& service = model.services[0];
  EXPECT_EQ(service.comment, std::vector<std::string>{"Does things."});
  ASSERT_EQ(service.methods.size(), 2u);
  const MethodModel& list = service.methods[0];
  EXPECT_EQ(list.wire_name, "list");
  EXPECT_TRUE(list.null_when_empty);
  EXPECT_EQ(list.result_field, "items");
  EXPECT_EQ(list.positional_args, (std::vector<std::string>{"b", "a"}));
  EXPECT_EQ(list.request_raw_json, std::vector<std::string>{"doc"});
  EXPECT_EQ(list.response_raw_json, std::vector<std::string>{"raw"});
  EXPECT_EQ(list.request_type, "::test::v1::Req");
  EXPECT_EQ(list.comment,
            (std::vector<std::string>{"Lists them.", "", "Really."}));
  EXPECT_EQ(service.methods[1].wire_name, "get_v2_thing");
  EXPECT_FALSE(service.methods[1].null_when_empty);
}

TEST_F(GeneratorTest, UsesDefaultsWhenTheFileDoesNotImportTheOptions) {
  const pb::FileDescriptor* file =
      BuildFile("plain.proto",
                "syntax = \"proto3\"; message P {}"
                " service Plain { rpc DoIt(P) returns (P); }");
  ASSERT_NE(file, nullptr);
  FileModel model;
  std::string error;
  ASSERT_TRUE(BuildFileModel(file, &model, &error)) << error;
  EXPECT_EQ(model.services[0].methods[0].wire_name, "do_it");
  EXPECT_EQ(model.cpp_namespace, "");
}

}  // namespace
}  // namespace zen::codegen
