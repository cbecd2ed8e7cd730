// The generated code of the golden protos (testdata/), compiled and called
// over a real connection: what the goldens say, the code does.
#include <memory>
#include <string>

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "ipc/secret.h"
#include "rpc/channel.h"
#include "rpc/server.h"
#include "testing/test_secret.h"
#include "tools/codegen/testdata/golden.zenrpc.h"
#include "tools/codegen/testdata/no_package.zenrpc.h"
#include "tools/codegen/testdata/no_services.zenrpc.h"

namespace zen::golden::v1 {
namespace {

static_assert(Greeter::kSayHelloMethodName == "say_hello");
static_assert(Greeter::kSayGoodbyeMethodName == "bye");  // wire_name.
static_assert(Greeter::kGetHTTPStatusMethodName == "get_http_status");
static_assert(Inventory::kMethodNames.size() == 3);
static_assert(Silent::kMethodNames.empty());
static_assert(::Echo::kSayMethodName == "say");

class FakeGreeter : public Greeter::Service {
  absl::Status SayHello(codegen_runtime::ServerContext* context,
                        const HelloRequest& request,
                        HelloReply* response) override {
    response->set_message("hello " + request.name() + " via " +
                          std::string(context->method()));
    return absl::OkStatus();
  }
  absl::Status SayGoodbye(codegen_runtime::ServerContext*, const HelloRequest&,
                          google::protobuf::Empty*) override {
    return absl::OkStatus();
  }
  // GetHTTPStatus is left UNIMPLEMENTED.
};

class FakeInventory : public Inventory::Service {
 public:
  absl::Status PutDocument(codegen_runtime::ServerContext*,
                           const PutDocumentRequest& request,
                           PutDocumentResponse* response) override {
    last_key = request.key();
    last_document = request.document();
    response->set_previous("[ \"older\" ]");
    response->set_version(2);
    return absl::OkStatus();
  }
  absl::Status ListItems(codegen_runtime::ServerContext*,
                         const common::Query& query,
                         ListItemsResponse* response) override {
    for (int i = 0; i < query.limit(); ++i) {
      common::Item* item = response->add_items();
      item->set_name(query.prefix() + std::to_string(i));
      item->set_count(i);
    }
    return absl::OkStatus();
  }
  absl::Status GetMetadata(codegen_runtime::ServerContext*,
                           const PutDocumentRequest::Metadata& request,
                           PutDocumentRequest::Metadata* response) override {
    response->set_owner(request.owner() + "!");
    return absl::OkStatus();
  }

  std::string last_key;
  std::string last_document;
};

class FakeEcho : public ::Echo::Service {
  absl::Status Say(codegen_runtime::ServerContext*,
                   const ::EchoMessage& request,
                   ::EchoMessage* response) override {
    *response = request;
    return absl::OkStatus();
  }
};

class GeneratedCodeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<rpc::Server>> server =
        rpc::Server::Create(&secret_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    greeter_.RegisterOn(server_.get());
    inventory_.RegisterOn(server_.get());
    silent_.RegisterOn(server_.get());
    echo_.RegisterOn(server_.get());
    ASSERT_TRUE(server_->Start().ok());
    rpc::ChannelOptions options;
    options.connector.host = server_->host();
    options.connector.port = server_->port();
    absl::StatusOr<std::unique_ptr<rpc::Channel>> channel =
        rpc::Channel::Create(&secret_, options);
    ASSERT_TRUE(channel.ok()) << channel.status();
    channel_ = std::move(*channel);
  }

  void TearDown() override {
    if (channel_ != nullptr) channel_->Stop();
    if (server_ != nullptr) server_->Stop();
  }

  static rpc::CallOptions Timeout() {
    return rpc::CallOptions::WithTimeout(absl::Seconds(5));
  }

  const ipc::Secret secret_ = testing::TestSecret();
  FakeGreeter greeter_;
  FakeInventory inventory_;
  Silent::Service silent_;
  FakeEcho echo_;
  std::unique_ptr<rpc::Server> server_;
  std::unique_ptr<rpc::Channel> channel_;
};

TEST_F(GeneratedCodeTest, GreeterAnswersUnderItsWireNames) {
  Greeter::Stub greeter(channel_.get());
  HelloRequest request;
  request.set_name("Ann");
  absl::StatusOr<HelloReply> reply = greeter.SayHello(request, Timeout());
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->message(), "hello Ann via say_hello");
  EXPECT_TRUE(greeter.SayGoodbye(request, Timeout()).ok());
  // The overridden name is the one on the wire.
  absl::StatusOr<rpc::RawResult> raw = channel_->Call("bye", "[]", "{}");
  ASSERT_TRUE(raw.ok()) << raw.status();
  EXPECT_EQ(raw->json(), "null");
  EXPECT_EQ(greeter.GetHTTPStatus(request, Timeout()).status().code(),
            absl::StatusCode::kUnimplemented);
}

TEST_F(GeneratedCodeTest, RawJsonRequestFieldsArriveByteForByte) {
  Inventory::Stub inventory(channel_.get());
  PutDocumentRequest request;
  request.set_key("k1");
  request.set_document("[1, {\"a\" :\t2}  ,\"\\n\"]");
  absl::StatusOr<PutDocumentResponse> response =
      inventory.PutDocument(request, Timeout());
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(inventory_.last_document, request.document());
  EXPECT_EQ(response->previous(), "[ \"older\" ]");
  EXPECT_EQ(response->version(), 2);

  // Positionally, as the Ruby client would send them.
  absl::StatusOr<rpc::RawResult> raw =
      channel_->Call("put_document", R"(["k2", {"x": [ 1 ]}])", "{}");
  ASSERT_TRUE(raw.ok()) << raw.status();
  EXPECT_EQ(inventory_.last_key, "k2");
  EXPECT_EQ(inventory_.last_document, R"({"x": [ 1 ]})");
  EXPECT_EQ(raw->json(), R"({"previous":[ "older" ],"version":2})");
}

TEST_F(GeneratedCodeTest, ResultFieldTravelsUnwrapped) {
  Inventory::Stub inventory(channel_.get());
  common::Query query;
  query.set_prefix("item");
  query.set_limit(2);
  absl::StatusOr<ListItemsResponse> items = inventory.ListItems(query);
  ASSERT_TRUE(items.ok()) << items.status();
  ASSERT_EQ(items->items_size(), 2);
  EXPECT_EQ(items->items(1).name(), "item1");

  absl::StatusOr<rpc::RawResult> raw =
      channel_->Call("list_items", "[]", R"({"prefix":"p","limit":1})");
  ASSERT_TRUE(raw.ok()) << raw.status();
  EXPECT_EQ(raw->json(), R"([{"name":"p0"}])");
  raw = channel_->Call("list_items", "[]", R"({"limit":0})");
  ASSERT_TRUE(raw.ok()) << raw.status();
  EXPECT_EQ(raw->json(), "null");
}

TEST_F(GeneratedCodeTest, NestedAndUnpackagedTypesWork) {
  Inventory::Stub inventory(channel_.get());
  PutDocumentRequest::Metadata metadata;
  metadata.set_owner("me");
  absl::StatusOr<PutDocumentRequest::Metadata> got =
      inventory.GetMetadata(metadata, Timeout());
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->owner(), "me!");

  ::Echo::Stub echo(channel_.get());
  ::EchoMessage message;
  message.set_text("hi");
  absl::StatusOr<::EchoMessage> echoed = echo.Say(message, Timeout());
  ASSERT_TRUE(echoed.ok()) << echoed.status();
  EXPECT_EQ(echoed->text(), "hi");
}

}  // namespace
}  // namespace zen::golden::v1
