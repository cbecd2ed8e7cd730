// End to end: the generated WorkerAgent::Stub calling a generated
// WorkerAgent::Service over a real authenticated loopback connection
// (ipc::Listener + handshake, rpc::Server dispatch, rpc::Channel), with the
// frames on the wire recorded in between.
#include <atomic>
#include <future>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "base/mutex.h"
#include "gtest/gtest.h"
#include "ipc/listener.h"
#include "ipc/message_stream.h"
#include "ipc/secret.h"
#include "proto/zen/agent/worker_agent.zenrpc.h"
#include "rpc/channel.h"
#include "rpc/server.h"
#include "simdjson.h"
#include "testing/test_secret.h"

namespace zen::agent {
namespace {

// Forwards to the real socket stream and keeps a copy of every frame: the
// requests the server reads, the responses it writes.
class RecordingStream : public ipc::MessageStream {
 public:
  explicit RecordingStream(std::shared_ptr<ipc::MessageStream> inner)
      : inner_(std::move(inner)) {}

  absl::StatusOr<ipc::Frame> Read(absl::Time deadline) override {
    absl::StatusOr<ipc::Frame> frame = inner_->Read(deadline);
    if (frame.ok()) {
      MutexLock lock(&mu_);
      requests_.emplace_back(frame->body);
    }
    return frame;
  }

  absl::Status Write(absl::Span<const absl::string_view> parts,
                     absl::Time deadline) override {
    {
      MutexLock lock(&mu_);
      std::string frame;
      for (absl::string_view part : parts) absl::StrAppend(&frame, part);
      responses_.push_back(std::move(frame));
    }
    return inner_->Write(parts, deadline);
  }

  void Shutdown() override { inner_->Shutdown(); }

  std::vector<std::string> requests() {
    MutexLock lock(&mu_);
    return requests_;
  }
  std::vector<std::string> responses() {
    MutexLock lock(&mu_);
    return responses_;
  }

 private:
  const std::shared_ptr<ipc::MessageStream> inner_;
  Mutex mu_;
  std::vector<std::string> requests_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> responses_ ABSL_GUARDED_BY(mu_);
};

// Elements of a JSON array (0 for anything else).
int CountArrayElements(const std::string& json) {
  simdjson::dom::parser parser;
  simdjson::dom::array array;
  if (parser.parse(json).get(array) != simdjson::SUCCESS) return 0;
  return static_cast<int>(array.size());
}

// A parent-side agent with canned answers.
class FakeAgent : public WorkerAgent::Service {
 public:
  absl::Status Ping(rpc::ServerContext*, const PingRequest&,
                    PingResponse*) override {
    return absl::OkStatus();
  }

  absl::Status UpdatedSettings(rpc::ServerContext*,
                               const UpdatedSettingsRequest& request,
                               UpdatedSettingsResponse* response) override {
    last_settings_request = request;
    if (!request.has_known_config_generation() ||
        request.known_config_generation() != 3) {
      response->set_config(config);
      response->set_config_generation(3);
    }
    return absl::OkStatus();
  }

  absl::Status SendCollectorEvents(rpc::ServerContext* context,
                                   const SendCollectorEventsRequest& request,
                                   SendCollectorEventsResponse*) override {
    events_received = CountArrayElements(request.events());
    absl::Status early = context->RespondNow();
    // Still "folding the events in" after answering.
    if (hold_after_responding.valid()) hold_after_responding.wait();
    handler_finished = true;
    return early;
  }

  absl::Status CalculateRateLimits(
      rpc::ServerContext*, const CalculateRateLimitsRequest& request,
      CalculateRateLimitsResponse* response) override {
    last_rate_request = request;
    if (request.route().path() == "/unlimited") return absl::OkStatus();
    if (request.route().path() == "/forbidden") {
      return absl::PermissionDeniedError("not for you");
    }
    response->set_throttled(true);
    response->set_discriminator(request.client_ip());
    response->set_current_requests(3);
    response->set_max_requests(2);
    response->set_time_remaining(17);
    return absl::OkStatus();
  }

  absl::Status RecordAttackWave(rpc::ServerContext*,
                                const RecordAttackWaveRequest& request,
                                RecordAttackWaveResponse* response) override {
    // A wave once the same IP has sent two suspicious requests.
    if (++suspicious_requests < 2) return absl::OkStatus();
    for (int i = 0; i < 2; ++i) {
      AttackWaveSample* sample = response->add_samples();
      sample->set_method(request.verb());
      sample->set_url(request.path());
    }
    return absl::OkStatus();
  }

  std::string config = "{}";
  UpdatedSettingsRequest last_settings_request;
  CalculateRateLimitsRequest last_rate_request;
  std::atomic<int> events_received{0};
  // If valid, SendCollectorEvents waits for it after responding. A copy
  // held here, as the handler may still be waking when the test ends (the
  // server joins it in TearDown, before this object goes).
  std::shared_future<void> hold_after_responding;
  std::atomic<bool> handler_finished{false};
  std::atomic<int> suspicious_requests{0};
};

// Implements nothing but Ping.
class PingOnlyAgent : public WorkerAgent::Service {
 public:
  absl::Status Ping(rpc::ServerContext*, const PingRequest&,
                    PingResponse*) override {
    return absl::OkStatus();
  }
};

class WorkerAgentEndToEndTest : public ::testing::Test {
 protected:
  // Starts a server with `register_handlers` applied, a listener that
  // records its connections' frames, and a channel to it.
  void Start(const std::function<void(rpc::Server*)>& register_handlers) {
    absl::StatusOr<std::unique_ptr<rpc::Server>> server =
        rpc::Server::Create(&secret_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    register_handlers(server_.get());
    ASSERT_TRUE(server_->Start().ok());

    ipc::ListenerOptions listener_options;
    listener_options.host = "127.0.0.1";
    listener_options.port = 0;
    absl::StatusOr<std::unique_ptr<ipc::Listener>> listener =
        ipc::Listener::Create(
            &secret_, listener_options,
            [this](std::shared_ptr<ipc::SocketStream> stream) {
              auto recording = std::make_shared<RecordingStream>(stream);
              {
                MutexLock lock(&mu_);
                recording_ = recording;
              }
              server_->ServeStream(recording);
            });
    ASSERT_TRUE(listener.ok()) << listener.status();
    listener_ = std::move(*listener);
    ASSERT_TRUE(listener_->Start().ok());

    rpc::ChannelOptions channel_options;
    channel_options.connector.host = "127.0.0.1";
    channel_options.connector.port = listener_->port();
    absl::StatusOr<std::unique_ptr<rpc::Channel>> channel =
        rpc::Channel::Create(&secret_, channel_options);
    ASSERT_TRUE(channel.ok()) << channel.status();
    channel_ = std::move(*channel);
    stub_ = std::make_unique<WorkerAgent::Stub>(channel_.get());
  }

  void StartWithAgent() {
    Start([this](rpc::Server* server) { agent_.RegisterOn(server); });
  }

  void TearDown() override {
    if (channel_ != nullptr) channel_->Stop();
    if (listener_ != nullptr) listener_->Stop();
    if (server_ != nullptr) server_->Stop();
  }

  std::shared_ptr<RecordingStream> recording() {
    MutexLock lock(&mu_);
    return recording_;
  }

  // The last request frame and the last response frame.
  std::string LastRequest() {
    std::vector<std::string> frames = recording()->requests();
    return frames.empty() ? "<none>" : frames.back();
  }
  std::string LastResponse() {
    std::vector<std::string> frames = recording()->responses();
    return frames.empty() ? "<none>" : frames.back();
  }

  static rpc::CallOptions Timeout() {
    return rpc::CallOptions::WithTimeout(absl::Seconds(5));
  }

  const ipc::Secret secret_ = testing::TestSecret();
  FakeAgent agent_;
  std::unique_ptr<rpc::Server> server_;
  std::unique_ptr<ipc::Listener> listener_;
  std::unique_ptr<rpc::Channel> channel_;
  std::unique_ptr<WorkerAgent::Stub> stub_;
  Mutex mu_;
  std::shared_ptr<RecordingStream> recording_ ABSL_GUARDED_BY(mu_);
};

// The elements of a frame (a JSON array) after the id: strings unquoted,
// anything else as its raw text, byte for byte. The id must be a non-empty
// string.
std::vector<std::string> FrameElements(const std::string& frame) {
  simdjson::padded_string padded(frame);
  simdjson::ondemand::parser parser;
  simdjson::ondemand::document doc;
  simdjson::ondemand::array array;
  std::vector<std::string> elements;
  if (parser.iterate(padded).get(doc) || doc.get_array().get(array)) {
    ADD_FAILURE() << "not a JSON array: " << frame;
    return elements;
  }
  bool first = true;
  for (auto element : array) {
    simdjson::ondemand::value value;
    simdjson::ondemand::json_type type;
    if (std::move(element).get(value) || value.type().get(type)) {
      ADD_FAILURE() << "bad element in " << frame;
      return elements;
    }
    std::string_view text;
    simdjson::error_code error = simdjson::SUCCESS;
    if (type == simdjson::ondemand::json_type::string) {
      error = value.get_string().get(text);
    } else if (type == simdjson::ondemand::json_type::object) {
      simdjson::ondemand::object object;
      error = value.get_object().get(object);
      if (!error) error = object.raw_json().get(text);
    } else if (type == simdjson::ondemand::json_type::array) {
      simdjson::ondemand::array inner;
      error = value.get_array().get(inner);
      if (!error) error = inner.raw_json().get(text);
    } else {
      text = value.raw_json_token();
      while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
    }
    if (error) {
      ADD_FAILURE() << "bad element in " << frame;
      return elements;
    }
    if (first) {
      EXPECT_FALSE(text.empty()) << "empty id in " << frame;
      first = false;
      continue;
    }
    elements.emplace_back(text);
  }
  return elements;
}

// `[id,"method",args,kwargs]` -> {method, args, kwargs}.
std::vector<std::string> SplitRequest(const std::string& frame) {
  std::vector<std::string> elements = FrameElements(frame);
  if (elements.size() != 3) {
    ADD_FAILURE() << "not a request frame: " << frame;
    return {"", "", ""};
  }
  return elements;
}

// `[id,result,error]` -> {result, error}.
std::vector<std::string> SplitResponse(const std::string& frame) {
  std::vector<std::string> elements = FrameElements(frame);
  if (elements.size() != 2) {
    ADD_FAILURE() << "not a response frame: " << frame;
    return {"", ""};
  }
  return elements;
}

TEST_F(WorkerAgentEndToEndTest,
       StubSendsPositionalArgsAsTheReferenceClientDoes) {
  StartWithAgent();
  CalculateRateLimitsRequest request;
  request.mutable_route()->set_method("GET");
  request.mutable_route()->set_path("/api/users/:id");
  request.set_client_ip("203.0.113.7");
  request.mutable_actor()->set_id("u1");
  request.mutable_actor()->set_last_ip_address("198.51.100.2");
  request.mutable_actor()->set_first_seen_at(1700000000000);

  absl::StatusOr<CalculateRateLimitsResponse> response =
      stub_->CalculateRateLimits(request, Timeout());
  ASSERT_TRUE(response.ok()) << response.status();

  // The reference's handlers take positional parameters only; the actor
  // has its lowerCamel keys and its times are numbers.
  EXPECT_EQ(SplitRequest(LastRequest()),
            (std::vector<std::string>{
                "calculate_rate_limits",
                R"([{"method":"GET","path":"/api/users/:id"},"203.0.113.7",)"
                R"({"id":"u1","lastIpAddress":"198.51.100.2",)"
                R"("firstSeenAt":1700000000000}])",
                "{}"}))
      << LastRequest();
  EXPECT_EQ(SplitResponse(LastResponse()),
            (std::vector<std::string>{
                R"({"throttled":true,"discriminator":"203.0.113.7",)"
                R"("current_requests":3,"max_requests":2,"time_remaining":17})",
                "null"}))
      << LastResponse();
  EXPECT_TRUE(response->throttled());
  EXPECT_EQ(response->time_remaining(), 17);
  EXPECT_EQ(agent_.last_rate_request.actor().first_seen_at(), 1700000000000);
}

TEST_F(WorkerAgentEndToEndTest, RawJsonSettingsArriveByteForByte) {
  agent_.config =
      "{ \"block\" :true,\n\t\"endpoints\": [ {\"route\":\"/\\u00e9\" , "
      "\"rate\": 1.50e1 } ] ,\"x\":null }";
  StartWithAgent();
  absl::StatusOr<UpdatedSettingsResponse> response =
      stub_->UpdatedSettings(UpdatedSettingsRequest(), Timeout());
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->config(), agent_.config);
  EXPECT_EQ(response->config_generation(), 3);
  EXPECT_FALSE(response->has_firewall_lists_generation());
  // Spliced into the frame as a JSON value, not re-serialized.
  EXPECT_EQ(SplitResponse(LastResponse())[0],
            "{\"config\":" + agent_.config + ",\"config_generation\":3}");
}

TEST_F(WorkerAgentEndToEndTest, UnchangedSettingsAreAnEmptyObject) {
  StartWithAgent();
  UpdatedSettingsRequest request;
  request.set_known_config_generation(3);
  absl::StatusOr<UpdatedSettingsResponse> response =
      stub_->UpdatedSettings(request, Timeout());
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_FALSE(response->has_config_generation());
  EXPECT_EQ(SplitResponse(LastResponse())[0], "{}");
  // Positional, as the reference client sends them: a generation it does
  // not know is `null`.
  EXPECT_EQ(SplitRequest(LastRequest())[1], "[3,null]");
  EXPECT_EQ(SplitRequest(LastRequest())[2], "{}");
}

TEST_F(WorkerAgentEndToEndTest, PingAndNoRateLimitAnswerNull) {
  StartWithAgent();
  ASSERT_TRUE(stub_->Ping(PingRequest(), Timeout()).ok());
  EXPECT_EQ(SplitRequest(LastRequest()),
            (std::vector<std::string>{"ping", "[]", "{}"}));
  EXPECT_EQ(SplitResponse(LastResponse()),
            (std::vector<std::string>{"null", "null"}));

  CalculateRateLimitsRequest request;
  request.mutable_route()->set_path("/unlimited");
  absl::StatusOr<CalculateRateLimitsResponse> response =
      stub_->CalculateRateLimits(request, Timeout());
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(SplitResponse(LastResponse())[0], "null");
  EXPECT_FALSE(response->has_throttled());
}

TEST_F(WorkerAgentEndToEndTest, AcceptsThePositionalArgsOfTheRubyClient) {
  StartWithAgent();
  absl::StatusOr<rpc::RawResult> result =
      channel_->Call("updated_settings", "[5, null]", "{}", Timeout());
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(agent_.last_settings_request.known_config_generation(), 5);
  EXPECT_FALSE(
      agent_.last_settings_request.has_known_firewall_lists_generation());

  // The reference's actor keys are lowerCamel, its times numbers.
  result = channel_->Call(
      "calculate_rate_limits",
      R"([{"method":"POST","path":"/login"},"192.0.2.1",)"
      R"({"id":"7","name":"Ann","lastIpAddress":"192.0.2.1",)"
      R"("firstSeenAt":1700000000000,"lastSeenAt":1700000001000}])",
      "{}", Timeout());
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(agent_.last_rate_request.route().path(), "/login");
  EXPECT_EQ(agent_.last_rate_request.client_ip(), "192.0.2.1");
  EXPECT_EQ(agent_.last_rate_request.actor().last_ip_address(), "192.0.2.1");
  EXPECT_EQ(agent_.last_rate_request.actor().last_seen_at(), 1700000001000);
}

TEST_F(WorkerAgentEndToEndTest, IgnoresUnknownFieldsFromANewerClient) {
  StartWithAgent();
  absl::StatusOr<rpc::RawResult> result = channel_->Call(
      "calculate_rate_limits", "[]",
      R"({"route":{"method":"GET","path":"/a","since_v9":[1,{"x":2}]},)"
      R"("client_ip":"192.0.2.9","priority":"high"})",
      Timeout());
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(agent_.last_rate_request.route().path(), "/a");
  EXPECT_EQ(agent_.last_rate_request.client_ip(), "192.0.2.9");
}

TEST_F(WorkerAgentEndToEndTest, IgnoresUnknownFieldsFromANewerServer) {
  Start([](rpc::Server* server) {
    server->RegisterHandler("calculate_rate_limits", [](rpc::ServerCall& call) {
      call.Respond(
          R"({"throttled":false,"discriminator":"u1","current_requests":1,)"
          R"("max_requests":9,"time_remaining":60,"window":{"kind":"sliding"},)"
          R"("hints":["a","b"]})");
      return absl::OkStatus();
    });
    server->RegisterHandler("record_attack_wave", [](rpc::ServerCall& call) {
      call.Respond(R"([{"method":"GET","url":"/.env","score":0.9}])");
      return absl::OkStatus();
    });
  });
  absl::StatusOr<CalculateRateLimitsResponse> response =
      stub_->CalculateRateLimits(CalculateRateLimitsRequest(), Timeout());
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->discriminator(), "u1");
  EXPECT_EQ(response->max_requests(), 9);

  absl::StatusOr<RecordAttackWaveResponse> wave =
      stub_->RecordAttackWave(RecordAttackWaveRequest(), Timeout());
  ASSERT_TRUE(wave.ok()) << wave.status();
  ASSERT_EQ(wave->samples_size(), 1);
  EXPECT_EQ(wave->samples(0).url(), "/.env");
}

TEST_F(WorkerAgentEndToEndTest, AnswersInvalidArgumentToARequestItCannotParse) {
  StartWithAgent();
  absl::StatusOr<rpc::RawResult> result =
      channel_->Call("updated_settings", "[]",
                     R"({"known_config_generation":"many"})", Timeout());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument)
      << result.status();
  EXPECT_NE(result.status().message().find("known_config_generation"),
            absl::string_view::npos)
      << result.status();
  result = channel_->Call("calculate_rate_limits", "[]", R"({"route":"GET /"})",
                          Timeout());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(LastResponse().find("\"INVALID_ARGUMENT\""), std::string::npos);
}

TEST_F(WorkerAgentEndToEndTest, RespondNowAnswersBeforeTheMethodFinishes) {
  std::promise<void> release;
  agent_.hold_after_responding = release.get_future().share();
  StartWithAgent();
  SendCollectorEventsRequest request;
  request.set_events(R"([{"type":"track_request"},{"type":"track_attack"}])");
  absl::StatusOr<SendCollectorEventsResponse> response =
      stub_->SendCollectorEvents(request, Timeout());
  // Answered while the method is still working.
  EXPECT_TRUE(response.ok()) << response.status();
  EXPECT_FALSE(agent_.handler_finished);
  EXPECT_EQ(agent_.events_received, 2);
  EXPECT_EQ(SplitResponse(LastResponse()),
            (std::vector<std::string>{"null", "null"}));
  release.set_value();
}

TEST_F(WorkerAgentEndToEndTest, AttackWaveSamplesTravelAsABareArray) {
  StartWithAgent();
  RecordAttackWaveRequest request;
  request.set_client_ip("192.0.2.66");
  request.set_verb("GET");
  request.set_path("/wp-admin");
  absl::StatusOr<RecordAttackWaveResponse> first =
      stub_->RecordAttackWave(request, Timeout());
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->samples_size(), 0);
  EXPECT_EQ(SplitResponse(LastResponse())[0], "null");

  absl::StatusOr<RecordAttackWaveResponse> second =
      stub_->RecordAttackWave(request, Timeout());
  ASSERT_TRUE(second.ok()) << second.status();
  ASSERT_EQ(second->samples_size(), 2);
  EXPECT_EQ(second->samples(1).url(), "/wp-admin");
  EXPECT_EQ(SplitResponse(LastResponse())[0],
            R"([{"method":"GET","url":"/wp-admin"},)"
            R"({"method":"GET","url":"/wp-admin"}])");
}

TEST_F(WorkerAgentEndToEndTest, MethodsNotImplementedAnswerUnimplemented) {
  PingOnlyAgent agent;
  Start([&agent](rpc::Server* server) { agent.RegisterOn(server); });
  EXPECT_TRUE(stub_->Ping(PingRequest(), Timeout()).ok());
  absl::StatusOr<RecordAttackWaveResponse> response =
      stub_->RecordAttackWave(RecordAttackWaveRequest(), Timeout());
  EXPECT_EQ(response.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_EQ(response.status().message(),
            "method 'record_attack_wave' is not implemented by this server");
  // Stop serving before `agent` goes.
  TearDown();
  channel_.reset();
  listener_.reset();
  server_.reset();
}

TEST_F(WorkerAgentEndToEndTest, MethodErrorsReachTheCallerWithTheirCode) {
  StartWithAgent();
  CalculateRateLimitsRequest request;
  request.mutable_route()->set_path("/forbidden");
  absl::StatusOr<CalculateRateLimitsResponse> response =
      stub_->CalculateRateLimits(request, Timeout());
  EXPECT_EQ(response.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(response.status().message(), "not for you");
}

TEST_F(WorkerAgentEndToEndTest, AResponseThatIsNotJsonIsAnInternalError) {
  agent_.config = "{\"unterminated\": ";
  StartWithAgent();
  absl::StatusOr<UpdatedSettingsResponse> response =
      stub_->UpdatedSettings(UpdatedSettingsRequest(), Timeout());
  EXPECT_EQ(response.status().code(), absl::StatusCode::kInternal)
      << response.status();
  // The connection survives the failed call.
  EXPECT_TRUE(stub_->Ping(PingRequest(), Timeout()).ok());
}

TEST_F(WorkerAgentEndToEndTest, AsyncStubDeliversTheResultOnce) {
  StartWithAgent();
  CalculateRateLimitsRequest request;
  request.set_client_ip("192.0.2.44");
  std::promise<absl::StatusOr<CalculateRateLimitsResponse>> done;
  std::atomic<int> calls{0};
  stub_->CalculateRateLimitsAsync(
      request, Timeout(),
      [&](absl::StatusOr<CalculateRateLimitsResponse> response) {
        if (calls.fetch_add(1) == 0) done.set_value(std::move(response));
      });
  absl::StatusOr<CalculateRateLimitsResponse> response =
      done.get_future().get();
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->discriminator(), "192.0.2.44");
  EXPECT_EQ(calls, 1);
}

TEST_F(WorkerAgentEndToEndTest, WireNameConstantsAreTheWireNames) {
  EXPECT_EQ(
      WorkerAgent::kMethodNames,
      (std::array<absl::string_view, 7>{
          "ping", "updated_settings", "watch_settings", "send_collector_events",
          "calculate_rate_limits", "record_attack_wave", "report_metrics"}));
}

}  // namespace
}  // namespace zen::agent
