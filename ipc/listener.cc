#include "ipc/listener.h"

#include <errno.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/clock.h"
#include "base/log.h"
#include "ipc/handshake.h"

namespace zen::ipc {

absl::StatusOr<std::unique_ptr<Listener>> Listener::Create(
    const Secret* secret, ListenerOptions options, Handler handler) {
  if (secret == nullptr || secret->empty()) {
    return absl::InvalidArgumentError("listener: no secret");
  }
  if (options.require_descendant && options.transport != Transport::kUnix) {
    return absl::InvalidArgumentError(
        "listener: require_descendant needs the unix transport (TCP does "
        "not tell the peer's pid)");
  }
  UniqueFd wake(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!wake.valid()) return absl::InternalError("listener: eventfd failed");
  UniqueFd fd;
  uint16_t port = 0;
  UnixListenSocket unix_socket;
  if (options.transport == Transport::kUnix) {
    absl::StatusOr<UnixListenSocket> made =
        ListenUnixInPrivateDir(options.unix_parent_dir, options.backlog);
    if (!made.ok()) return made.status();
    unix_socket = std::move(*made);
    fd = std::move(unix_socket.fd);
  } else {
    absl::StatusOr<UniqueFd> tcp =
        ListenTcp(options.host, options.port, options.backlog);
    if (!tcp.ok()) return tcp.status();
    absl::StatusOr<uint16_t> local = LocalPort(tcp->get());
    if (!local.ok()) return local.status();
    fd = std::move(*tcp);
    port = *local;
  }
  return std::unique_ptr<Listener>(new Listener(
      secret, std::move(options), std::move(handler), std::move(fd), port,
      std::move(unix_socket), std::move(wake)));
}

Listener::Listener(const Secret* secret, ListenerOptions options,
                   Handler handler, UniqueFd listen_fd, uint16_t port,
                   UnixListenSocket unix_socket, UniqueFd wake_fd)
    : secret_(secret),
      options_(std::move(options)),
      handler_(std::move(handler)),
      port_(port),
      unix_(std::move(unix_socket)),
      uid_(::geteuid()),
      wake_fd_(std::move(wake_fd)),
      listen_fd_(std::move(listen_fd)) {
  if (options_.transport == Transport::kTcp && options_.refuse_other_uid &&
      !options_.peer_uid_lookup) {
    // Now rather than at the first accept: a descriptor the listener holds
    // from the start (a failure here is retried, and counted, per accept).
    (void)peer_uid_query_.Open();
  }
}

Listener::~Listener() { Stop(); }

absl::Status Listener::Start() {
  MutexLock lock(&mu_);
  if (started_ || closed_ || stopped_) {
    return absl::FailedPreconditionError("listener already started or closed");
  }
  try {
    accept_thread_ = std::thread([this] { AcceptLoop(); });
  } catch (const std::system_error& e) {
    return absl::ResourceExhaustedError(
        absl::StrCat("listener: cannot start the accept thread: ", e.what()));
  }
  started_ = true;
  return absl::OkStatus();
}

void Listener::AcceptLoop() {
  int listen_fd;
  {
    MutexLock lock(&mu_);
    listen_fd = listen_fd_.get();  // Stays open until this thread is joined.
  }
  for (;;) {
    pollfd fds[2] = {{listen_fd, POLLIN, 0}, {wake_fd_.get(), POLLIN, 0}};
    const int n = ::poll(fds, 2, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      LogError("listener: poll failed; no longer accepting");
      return;
    }
    if (fds[1].revents != 0) return;  // Close() or Stop().
    absl::StatusOr<UniqueFd> fd = Accept(listen_fd, zen::Now());
    if (!fd.ok()) {
      // EMFILE and friends: back off a little instead of spinning.
      if (!absl::IsDeadlineExceeded(fd.status())) {
        LogWarning("listener: ", fd.status().message());
        ::poll(nullptr, 0, 10);
      }
      continue;
    }
    const PeerVerdict verdict = CheckPeer(fd->get());
    if (verdict != PeerVerdict::kAdmit &&
        verdict != PeerVerdict::kAdmitUnchecked) {
      // Closed with a reset (TCP): no FIN exchange, no TIME_WAIT, the least
      // work for a stranger's connection.
      const linger reset = {1, 0};
      ::setsockopt(fd->get(), SOL_SOCKET, SO_LINGER, &reset, sizeof(reset));
    }
    // Read before mu_: only this thread spawns into the group, so the count
    // can only fall before the spawn below.
    const size_t busy_threads = threads_.JoinFinishedAndCountBusy();
    {
      MutexLock lock(&mu_);
      ++stats_.accepted;
      // A refused peer is closed at once by UniqueFd.
      switch (verdict) {
        case PeerVerdict::kAdmit:
          break;
        case PeerVerdict::kAdmitUnchecked:
          ++stats_.peer_uid_unknown;
          break;
        case PeerVerdict::kOtherUid:
          ++stats_.refused_other_uid;
          continue;
        case PeerVerdict::kNotDescendant:
          ++stats_.refused_not_descendant;
          continue;
        case PeerVerdict::kUnknown:
          ++stats_.refused_unknown_peer;
          continue;
      }
      const absl::Time now = zen::Now();
      const size_t live = LiveConnectionsLocked();
      // A slot is freed from inside its thread, a moment before the thread
      // parks or exits; the threads that really exist must stay within the
      // slots too, or a churn of evictions would outrun them.
      if (live >= options_.max_connections ||
          busy_threads >=
              live + options_.max_pending_handshakes + kMaxEvicting ||
          !AdmitHandshakeLocked(now)) {
        ++stats_.refused_busy;
        continue;
      }
      ++stats_.handshakes;
      handshaking_.emplace(fd->get(), Handshake{now});
    }
    const int fd_number = fd->get();
    auto owned = std::make_shared<UniqueFd>(std::move(*fd));
    absl::Status spawned = threads_.TrySpawn(
        [this, owned] { ServeConnection(std::move(*owned)); });
    if (!spawned.ok()) {
      // No thread for its handshake (EAGAIN under a task limit): refuse the
      // connection rather than let the exception end the parent. Forgotten
      // before it is closed, so Stop() cannot shut down a reused number.
      uint64_t refused;
      {
        MutexLock lock(&mu_);
        handshaking_.erase(fd_number);
        refused = ++refused_no_thread_;
      }
      owned.reset();  // Closed: the peer sees EOF without a challenge.
      no_thread_log_.Log(LogLevel::kWarning,
                         absl::StrCat("listener: connection refused (", refused,
                                      " so far): ", spawned.message()),
                         zen::Now());
    }
  }
}

void Listener::ServeConnection(UniqueFd fd) {
  const absl::Time deadline = zen::Now() + options_.handshake_timeout;
  absl::Status status = ServerHandshake(fd.get(), *secret_, deadline);
  std::shared_ptr<SocketStream> stream;
  {
    MutexLock lock(&mu_);
    // Evicted as a squatter: its socket is shut down, whatever the result.
    auto it = handshaking_.find(fd.get());
    const bool evicted = it == handshaking_.end() || it->second.evicted;
    if (it != handshaking_.end()) handshaking_.erase(it);
    if (status.ok() && !stopped_ && !evicted) {
      stream = std::make_shared<SocketStream>(std::move(fd), options_.stream);
      connections_.push_back(stream);
    }
  }
  // A rejected peer is closed without a word, as the reference does.
  if (stream == nullptr) return;
  handler_(std::move(stream));
}

Listener::PeerVerdict Listener::CheckPeer(int fd) {
  if (options_.transport == Transport::kUnix) {
    if (!options_.refuse_other_uid && !options_.require_descendant) {
      return PeerVerdict::kAdmit;
    }
    absl::StatusOr<PeerCredentials> peer = UnixPeerCredentials(fd);
    if (!peer.ok()) return PeerVerdict::kUnknown;
    if (options_.refuse_other_uid && peer->uid != uid_) {
      return PeerVerdict::kOtherUid;
    }
    if (options_.require_descendant && !IsDescendantOf(peer->pid, ::getpid())) {
      return PeerVerdict::kNotDescendant;
    }
    return PeerVerdict::kAdmit;
  }
  if (!options_.refuse_other_uid) return PeerVerdict::kAdmit;
  absl::StatusOr<uid_t> uid = options_.peer_uid_lookup
                                  ? options_.peer_uid_lookup(fd)
                                  : peer_uid_query_.PeerUid(fd);
  if (!uid.ok()) {
    // Fail open: the handshake still keeps out whoever lacks the secret;
    // refusing here would lock every worker out wherever netlink is
    // missing (some sandboxes).
    if (!logged_uid_unknown_) {
      logged_uid_unknown_ = true;
      LogWarning("listener: cannot learn a TCP peer's uid (",
                 uid.status().message(),
                 "); such peers go to the handshake unchecked (logged once, "
                 "counted in peer_uid_unknown)");
    }
    return PeerVerdict::kAdmitUnchecked;
  }
  return *uid == uid_ ? PeerVerdict::kAdmit : PeerVerdict::kOtherUid;
}

bool Listener::AdmitHandshakeLocked(absl::Time now) {
  size_t evicting = 0;
  for (const auto& [fd, handshake] : handshaking_)
    evicting += handshake.evicted;
  if (handshaking_.size() - evicting < options_.max_pending_handshakes) {
    return true;
  }
  return evicting < kMaxEvicting && EvictSquatterLocked(now);
}

bool Listener::EvictSquatterLocked(absl::Time now) {
  auto oldest = handshaking_.end();
  for (auto it = handshaking_.begin(); it != handshaking_.end(); ++it) {
    if (it->second.evicted) continue;
    if (oldest == handshaking_.end() ||
        it->second.since < oldest->second.since) {
      oldest = it;
    }
  }
  if (oldest == handshaking_.end() ||
      now - oldest->second.since < kSquatterAge) {
    return false;  // Young handshakes: a burst, not squatters.
  }
  // Its thread, waiting on it, sees the shutdown and leaves (and removes the
  // entry); until then the descriptor stays open, so the number cannot have
  // been reused.
  ::shutdown(oldest->first, SHUT_RDWR);
  oldest->second.evicted = true;
  ++stats_.evicted;
  return true;
}

size_t Listener::LiveConnectionsLocked() {
  size_t live = 0;
  for (auto it = connections_.begin(); it != connections_.end();) {
    if (it->expired()) {
      *it = std::move(connections_.back());
      connections_.pop_back();
    } else {
      ++live;
      ++it;
    }
  }
  return live;
}

void Listener::StopAccepting() {
  std::thread accept_thread;
  {
    MutexLock lock(&mu_);
    closed_ = true;
    accept_thread = std::move(accept_thread_);
  }
  const uint64_t one = 1;
  ssize_t ignored = ::write(wake_fd_.get(), &one, sizeof(one));
  (void)ignored;
  if (accept_thread.joinable()) accept_thread.join();
  {
    MutexLock lock(&mu_);
    listen_fd_.Reset();  // Only now: no thread polls it any more.
  }
  // Outside mu_: it takes the exit registry's lock, and both are
  // fork-guarded. Only the process that made the path removes it.
  RemoveUnixListenSocket(unix_);
}

void Listener::Close() { StopAccepting(); }

void Listener::Stop() {
  StopAccepting();
  std::vector<std::shared_ptr<SocketStream>> live;
  {
    MutexLock lock(&mu_);
    stopped_ = true;
    for (const auto& [fd, handshake] : handshaking_) {
      ::shutdown(fd, SHUT_RDWR);
    }
    for (const auto& weak : connections_) {
      if (auto stream = weak.lock()) live.push_back(std::move(stream));
    }
    connections_.clear();
  }
  for (const auto& stream : live) stream->Shutdown();
  live.clear();
  threads_.JoinAll();
}

void Listener::CloseSocketsInForkedChild() {
  // close(), never shutdown(): these sockets are the parent's connections.
  // The descriptors of handshakes are owned by threads that do not exist
  // here, so they are closed by number and forgotten; connections are
  // closed through their streams (idempotent).
  listen_fd_.Reset();  // Never unlinks: a kUnix path is the parent's.
  peer_uid_query_.Close();
  wake_fd_.Reset();
  for (const auto& [fd, handshake] : handshaking_) ::close(fd);
  handshaking_.clear();
  for (const auto& weak : connections_) {
    if (auto stream = weak.lock()) stream->CloseAfterFork();
  }
}

void Listener::AbandonAfterFork() {
  {
    MutexLock lock(&mu_);
    CloseSocketsInForkedChild();  // Already done at the fork; idempotent.
    // The accept thread does not exist in this process either.
    new std::thread(std::move(accept_thread_));
  }
  threads_.AbandonAfterFork();
}

size_t Listener::connection_count() const {
  MutexLock lock(&mu_);
  return const_cast<Listener*>(this)->LiveConnectionsLocked();
}

ListenerStats Listener::stats() const {
  MutexLock lock(&mu_);
  ListenerStats stats = stats_;
  for (const auto& [fd, handshake] : handshaking_) {
    stats.pending_handshakes += !handshake.evicted;
  }
  return stats;
}

uint64_t Listener::refused_no_thread() const {
  MutexLock lock(&mu_);
  return refused_no_thread_;
}

size_t Listener::pending_handshakes() const {
  MutexLock lock(&mu_);
  size_t pending = 0;
  for (const auto& [fd, handshake] : handshaking_)
    pending += !handshake.evicted;
  return pending;
}

}  // namespace zen::ipc
