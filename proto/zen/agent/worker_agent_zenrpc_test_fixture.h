// The fixture of the generated WorkerAgent end-to-end tests: a server
// with canned answers behind a listener that records every frame, a
// channel and a stub to it, and readers of the recorded frames.
#ifndef ZEN_PROTO_ZEN_AGENT_WORKER_AGENT_ZENRPC_TEST_FIXTURE_H_
#define ZEN_PROTO_ZEN_AGENT_WORKER_AGENT_ZENRPC_TEST_FIXTURE_H_

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
#include "testing/test_secret.h"

namespace zen::agent {

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
int CountArrayElements(const std::string& json);

// A parent-side agent with canned answers.
class FakeAgent : public WorkerAgent::Service {
 public:
  absl::Status Ping(codegen_runtime::ServerContext*, const PingRequest&,
                    PingResponse*) override {
    return absl::OkStatus();
  }

  absl::Status UpdatedSettings(codegen_runtime::ServerContext*,
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

  absl::Status SendCollectorEvents(codegen_runtime::ServerContext* context,
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
      codegen_runtime::ServerContext*,
      const CalculateRateLimitsRequest& request,
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

  absl::Status RecordAttackWave(codegen_runtime::ServerContext*,
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
  absl::Status Ping(codegen_runtime::ServerContext*, const PingRequest&,
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
std::vector<std::string> FrameElements(const std::string& frame);
// `[id,"method",args,kwargs]` -> {method, args, kwargs}.
std::vector<std::string> SplitRequest(const std::string& frame);
// `[id,result,error]` -> {result, error}.
std::vector<std::string> SplitResponse(const std::string& frame);

}  // namespace zen::agent

#endif  // ZEN_PROTO_ZEN_AGENT_WORKER_AGENT_ZENRPC_TEST_FIXTURE_H_
