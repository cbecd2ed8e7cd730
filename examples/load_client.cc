#include "examples/load_client.h"

#include <utility>

#include "absl/strings/numbers.h"
#include "absl/time/clock.h"
#include "base/clock.h"
#include "examples/demo_app.h"

namespace zen::examples {
namespace {

std::unique_ptr<httplib::Client> NewClient(uint16_t port) {
  auto client = std::make_unique<httplib::Client>("127.0.0.1", port);
  client->set_connection_timeout(1, 0);
  client->set_read_timeout(3, 0);
  client->set_write_timeout(1, 0);
  client->set_tcp_nodelay(true);
  return client;
}

}  // namespace

FetchResult Fetch(httplib::Client& client, const std::string& path,
                  absl::string_view client_ip) {
  httplib::Headers headers;
  if (!client_ip.empty()) {
    headers.emplace("X-Forwarded-For", std::string(client_ip));
  }
  FetchResult result;
  result.sent_at = zen::Now();
  httplib::Result response = client.Get(path, headers);
  result.done_at = zen::Now();
  if (!response) {
    result.error = httplib::to_string(response.error());
    return result;
  }
  result.http_status = response->status;
  int pid = 0;
  if (absl::SimpleAtoi(response->get_header_value(kWorkerPidHeader), &pid)) {
    result.worker_pid = pid;
  }
  result.body = std::move(response->body);
  return result;
}

FetchResult FetchOnce(uint16_t port, const std::string& path,
                      absl::string_view client_ip) {
  std::unique_ptr<httplib::Client> client = NewClient(port);
  return Fetch(*client, path, client_ip);
}

void Tally::Count(Counts* counts, const FetchResult& result) {
  if (result.http_status == 0) {
    ++counts->failed;
    return;
  }
  ++counts->responses;
  switch (result.http_status) {
    case 200:
      ++counts->ok;
      break;
    case 403:
      ++counts->forbidden;
      break;
    case 429:
      ++counts->too_many;
      break;
    default:
      ++counts->other;
  }
}

void Tally::Add(const FetchResult& result) {
  MutexLock lock(&mu_);
  Count(&total_, result);
}

Tally::Counts Tally::total() const {
  MutexLock lock(&mu_);
  return total_;
}

Traffic::Traffic(uint16_t port, std::vector<TrafficStream> streams,
                 Tally* tally)
    : port_(port),
      streams_(std::move(streams)),
      tally_(tally),
      results_(streams_.size()) {}

Traffic::~Traffic() { Stop(); }

void Traffic::Start() {
  for (size_t i = 0; i < streams_.size(); ++i) {
    threads_.emplace_back([this, i] { RunStream(i); });
  }
}

void Traffic::Stop() {
  stop_.store(true);
  for (std::thread& thread : threads_) thread.join();
  threads_.clear();
}

void Traffic::RunStream(size_t index) {
  const TrafficStream& stream = streams_[index];
  std::unique_ptr<httplib::Client> client;
  size_t on_connection = 0;
  for (size_t n = 0; !stop_.load(); ++n) {
    if (client == nullptr || on_connection == stream.requests_per_connection) {
      client = NewClient(port_);
      client->set_keep_alive(stream.requests_per_connection > 1);
      on_connection = 0;
    }
    const std::string& path = stream.paths[n % stream.paths.size()];
    FetchResult result = Fetch(*client, path, stream.client_ip);
    ++on_connection;
    tally_->Add(result);
    if (stream.pause > absl::ZeroDuration()) absl::SleepFor(stream.pause);
    if (stream.keep_results) {
      MutexLock lock(&mu_);
      results_[index].push_back(std::move(result));
    }
  }
}

std::vector<FetchResult> Traffic::results(size_t index) const {
  MutexLock lock(&mu_);
  return results_[index];
}

std::vector<FetchResult> Burst(uint16_t port, const std::string& path,
                               absl::string_view client_ip, size_t total,
                               size_t threads, Tally* tally) {
  std::vector<FetchResult> results(total);
  std::vector<std::thread> senders;
  for (size_t t = 0; t < threads; ++t) {
    senders.emplace_back([&, t] {
      for (size_t i = t; i < total; i += threads) {
        results[i] = FetchOnce(port, path, client_ip);
        tally->Add(results[i]);
      }
    });
  }
  for (std::thread& sender : senders) sender.join();
  return results;
}

}  // namespace zen::examples
