#include "testing/echo_server.h"

#include <cstdlib>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "testing/deadline.h"
#include "testing/test_secret.h"

namespace zen::testing {

EchoServer::EchoServer(ipc::ListenerOptions options) : secret(TestSecret()) {
  auto created = ipc::Listener::Create(
      &secret, std::move(options),
      [this](std::shared_ptr<ipc::SocketStream> s) {
        handled.fetch_add(1);
        for (;;) {
          auto frame = s->Read(absl::InfiniteFuture());
          if (!frame.ok()) return;
          absl::string_view body = frame->body;
          if (!s->Write({&body, 1}, In(absl::Seconds(5))).ok()) return;
        }
      });
  EXPECT_TRUE(created.ok()) << created.status();
  if (!created.ok()) std::abort();
  listener = std::move(*created);
  EXPECT_TRUE(listener->Start().ok());
}

ipc::ConnectorOptions EchoServer::Client() const {
  ipc::ConnectorOptions options;
  options.transport = listener->transport();
  options.port = listener->port();
  options.unix_path = listener->unix_path();
  return options;
}

absl::Status EchoRoundTrip(ipc::SocketStream& stream, const std::string& body) {
  absl::string_view view = body;
  absl::Status written = stream.Write({&view, 1}, In(absl::Seconds(5)));
  if (!written.ok()) return written;
  auto frame = stream.Read(In(absl::Seconds(5)));
  if (!frame.ok()) return frame.status();
  if (frame->body != body) {
    return absl::DataLossError(absl::StrCat(
        "echo of ", body.size(), " bytes came back as ", frame->body.size()));
  }
  return absl::OkStatus();
}

}  // namespace zen::testing
