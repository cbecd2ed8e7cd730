// Listener: the server side of the transport.
#ifndef ZEN_IPC_LISTENER_H_
#define ZEN_IPC_LISTENER_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "base/fork_guard.h"
#include "base/log_throttle.h"
#include "base/mutex.h"
#include "base/thread_group.h"
#include "ipc/options.h"
#include "ipc/peer_credentials.h"
#include "ipc/secret.h"
#include "ipc/socket_io.h"
#include "ipc/socket_stream.h"
#include "ipc/unique_fd.h"
#include "ipc/unix_socket.h"

namespace zen::ipc {

// Asks who owns the peer's socket of an accepted TCP connection.
using PeerUidLookup = std::function<absl::StatusOr<uid_t>(int fd)>;

struct ListenerOptions {
  // kTcp (the default, what the reference speaks) binds host:port. kUnix
  // binds a Unix-domain socket in a fresh 0700 directory (mkdtemp) under
  // `unix_parent_dir` (empty: $TMPDIR if the path fits, else /tmp); see
  // unix_path(). host and port are then unused.
  Transport transport = Transport::kTcp;
  std::string unix_parent_dir;
  // IPv4 address to bind; loopback by default (this is a one-machine
  // transport). Port 0 picks an ephemeral port.
  std::string host = kLoopbackHost;
  uint16_t port = 0;
  // Closes a peer whose socket belongs to another uid than this process's
  // effective uid at accept, before it gets a thread or a handshake slot:
  // one accept and one close is all it costs. TCP asks the kernel
  // (NETLINK_SOCK_DIAG, see TcpPeerUidQuery); when that query fails (no
  // netlink, a peer that is not local) the peer is admitted to the
  // handshake unchecked, counted in ListenerStats::peer_uid_unknown and
  // logged once. kUnix reads SO_PEERCRED, which cannot fail on a live
  // socket; if it does, the peer is refused. Turn it off when workers run
  // as another user than the parent (a root parent that drops privileges).
  bool refuse_other_uid = true;
  // kUnix only (Create fails with kInvalidArgument for kTcp): also refuses
  // a peer whose pid is not this process or one of its descendants
  // (IsDescendantOf, 64 levels at most).
  bool require_descendant = false;
  // For tests: replaces the kernel query of a TCP peer's uid.
  PeerUidLookup peer_uid_lookup;
  int backlog = 512;
  // One deadline over the whole handshake of a connection.
  absl::Duration handshake_timeout = kDefaultHandshakeTimeout;
  // Connections still in their handshake, at most, so unauthenticated peers
  // cannot pile up threads. When all are taken, a newcomer takes the slot of
  // the oldest if that one has been pending for kSquatterAge (an honest
  // handshake takes well under a millisecond), so silent connections cannot
  // lock workers out; otherwise the newcomer is closed at once.
  size_t max_pending_handshakes = 64;
  // Authenticated connections alive at once; more are closed at once.
  size_t max_connections = 1024;
  // Warnings of one kind (a connection refused for want of a thread) go
  // out at most once per interval; the next one says how many were not.
  absl::Duration log_interval = absl::Seconds(10);
  StreamOptions stream;
};

// What the listener did with the connections it accepted. Counters since
// Create; a connection is counted once, under its first refusal.
struct ListenerStats {
  uint64_t accepted = 0;
  // Closed at accept, without a thread or a handshake slot: another uid
  // (refuse_other_uid), not a descendant (require_descendant), or a Unix
  // peer whose credentials could not be read.
  uint64_t refused_other_uid = 0;
  uint64_t refused_not_descendant = 0;
  uint64_t refused_unknown_peer = 0;
  // TCP peers whose uid the kernel would not tell, admitted unchecked.
  uint64_t peer_uid_unknown = 0;
  // Closed at once because every handshake slot (or connection) was taken.
  uint64_t refused_busy = 0;
  // Handshakes started, that is handshake slots taken; and squatters cut to
  // make room (kSquatterAge).
  uint64_t handshakes = 0;
  uint64_t evicted = 0;
  // Now, not a counter: connections in their handshake.
  size_t pending_handshakes = 0;
};

// A pending handshake this old, when every slot is taken, gives its slot to
// a newcomer (ListenerOptions::max_pending_handshakes).
inline constexpr absl::Duration kSquatterAge = absl::Milliseconds(10);
// Evicted handshakes whose threads have not left yet, at most: with the
// slots, this bounds the threads handshakes hold.
inline constexpr size_t kMaxEvicting = 4;

// Accepts connections, runs the server handshake on each off the accept path
// (a silent or slow client never delays anyone else), and hands every
// authenticated connection to the handler.
//
// Thread-safe. Owns its accept thread and one thread per connection, all
// joined by Stop() (and by the destructor). A connection for which no thread
// can be created (EAGAIN under a task limit) is closed at once, before its
// challenge, and counted (refused_no_thread()); the listener keeps accepting.
class Listener {
 public:
  // Runs on a listener-owned thread for each authenticated connection. The
  // connection stays open as long as someone holds the stream; Stop() shuts
  // down every stream still alive.
  using Handler = std::function<void(std::shared_ptr<SocketStream>)>;

  // Binds at once (so port() or unix_path() is known before Start). `secret`
  // is not owned and must outlive the listener. kUnavailable if the bind
  // fails; kInvalidArgument for contradictory options.
  static absl::StatusOr<std::unique_ptr<Listener>> Create(
      const Secret* secret, ListenerOptions options, Handler handler);

  ~Listener();
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  // Starts accepting. kFailedPrecondition if already started or closed;
  // kResourceExhausted if the accept thread cannot be created (Start may be
  // called again).
  absl::Status Start() ABSL_LOCKS_EXCLUDED(mu_);

  // Closes the listening socket (new connects are refused), shuts down every
  // accepted connection so every thread blocked on one wakes at once, and
  // joins every thread. A kUnix listener's socket and directory are removed
  // (by the process that made them only, never by a forked child); a
  // listener that is never stopped removes them at normal exit. Idempotent.
  void Stop() ABSL_LOCKS_EXCLUDED(mu_);

  // Closes only the listening socket (and removes a kUnix one's path):
  // existing connections keep working.
  // Stop() afterwards still shuts them down. Idempotent.
  void Close() ABSL_LOCKS_EXCLUDED(mu_);

  // A forked child holds none of the listener's sockets from the moment of
  // the fork: a fork handler (base/fork_guard.h) closes the child's copies
  // of the listening socket, the wake-up eventfd and every connection, in
  // its handshake or authenticated, never with shutdown(2). So a child
  // compromised before it touches this object cannot accept or read its
  // siblings' connections, nor wake the parent's accept loop.
  //
  // For a forked child that inherited this listener: closes whatever is left
  // of this process's copies (nothing, after the fork handler) and forgets
  // the threads (they exist only in the parent). Call with no other thread
  // running; the object must then be leaked (release() it), never destroyed.
  // (mu_ is free in the child: the fork guard holds it across the fork.)
  void AbandonAfterFork() ABSL_LOCKS_EXCLUDED(mu_);

  const std::string& host() const { return options_.host; }
  uint16_t port() const { return port_; }
  Transport transport() const { return options_.transport; }
  // The socket's path for kUnix (empty for kTcp), in a directory of its own
  // that only this uid can enter.
  const std::string& unix_path() const { return unix_.path; }

  ListenerStats stats() const ABSL_LOCKS_EXCLUDED(mu_);

  // Finished connection threads kept parked for the next connection.
  size_t parked_threads() const { return threads_.parked(); }

  // Authenticated connections currently alive.
  size_t connection_count() const ABSL_LOCKS_EXCLUDED(mu_);
  // Connections currently in their handshake.
  size_t pending_handshakes() const ABSL_LOCKS_EXCLUDED(mu_);
  // Connections closed at once because no thread could be created for their
  // handshake (EAGAIN under a task limit), since creation.
  uint64_t refused_no_thread() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  Listener(const Secret* secret, ListenerOptions options, Handler handler,
           UniqueFd listen_fd, uint16_t port, UnixListenSocket unix_socket,
           UniqueFd wake_fd);

  enum class PeerVerdict {
    kAdmit,
    kAdmitUnchecked,
    kOtherUid,
    kNotDescendant,
    kUnknown
  };
  // Runs on the accept thread, before any lock, thread or slot.
  PeerVerdict CheckPeer(int fd);

  void AcceptLoop();
  void ServeConnection(UniqueFd fd) ABSL_LOCKS_EXCLUDED(mu_);
  // Whether a newly accepted socket may start its handshake, making room by
  // evicting a squatter when the slots are full.
  bool AdmitHandshakeLocked(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Makes room among full handshake slots by cutting the oldest, if it is
  // a squatter (kSquatterAge); false if none is.
  bool EvictSquatterLocked(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  size_t LiveConnectionsLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void StopAccepting() ABSL_LOCKS_EXCLUDED(mu_);
  // In a forked child: closes the child's copies of every socket of the
  // listener.
  void CloseSocketsInForkedChild() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Secret* const secret_;  // Not owned.
  const ListenerOptions options_;
  const Handler handler_;
  const uint16_t port_;
  // kUnix: where the socket is (its descriptor is listen_fd_).
  const UnixListenSocket unix_;
  const uid_t uid_;   // This process's effective uid, at Create.
  UniqueFd wake_fd_;  // eventfd that wakes the accept loop.
  // Used by the accept thread only.
  TcpPeerUidQuery peer_uid_query_;
  bool logged_uid_unknown_ = false;

  mutable Mutex mu_;
  UniqueFd listen_fd_ ABSL_GUARDED_BY(mu_);
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  ListenerStats stats_ ABSL_GUARDED_BY(mu_);
  std::thread accept_thread_ ABSL_GUARDED_BY(mu_);
  // Sockets in their handshake, owned by their threads; Stop shuts them down.
  struct Handshake {
    absl::Time since;      // Accepted.
    bool evicted = false;  // Shut down to make room; its thread is leaving.
  };
  // Sockets in their handshake, by descriptor.
  absl::flat_hash_map<int, Handshake> handshaking_ ABSL_GUARDED_BY(mu_);
  std::vector<std::weak_ptr<SocketStream>> connections_ ABSL_GUARDED_BY(mu_);
  uint64_t refused_no_thread_ ABSL_GUARDED_BY(mu_) = 0;
  LogThrottle no_thread_log_{options_.log_interval};
  ForkGuardRegistration fork_guard_{&mu_};
  // After the fields it closes, so it is unregistered before they go.
  // It runs at the fork, while the fork guard's thread (the only one in the
  // child) holds mu_.
  ForkChildHandler fork_child_{[this] {
    mu_.AssertHeld();
    CloseSocketsInForkedChild();
  }};
  // One thread per connection, handshake first. A few finished ones stay
  // parked so that the next connection's handshake does not wait for a
  // thread to be created.
  ThreadGroup threads_{/*max_parked=*/4, absl::Seconds(10)};
};

}  // namespace zen::ipc

#endif  // ZEN_IPC_LISTENER_H_
