// The client channel's reading token: which thread reads the connection.
// Internal to rpc::Channel.
#ifndef ZEN_RPC_READING_TOKEN_H_
#define ZEN_RPC_READING_TOKEN_H_

#include <atomic>

namespace zen::rpc::internal {

// One thread at a time reads a connection and delivers every response it
// finds (leader/follower). A synchronous caller whose response has not come
// takes the token if it is free and reads for everyone, so a caller alone in
// flight reads its own response: no thread switch, no signalling. A caller
// that finds the token held follows: it sleeps until its response is
// delivered or the token is offered to it. A leader that leaves offers the
// token to one follower (not all of them, which would only race for it).
//
// Lock-free: taken by compare-and-swap, released by a store. The token knows
// nothing of calls; a follower is any type with the PendingCall follower
// protocol (StartFollowing, FinishFollowing), given as a template argument
// so that no call is virtual. Thread-safe.
class ReadingToken {
 public:
  ReadingToken() = default;
  ReadingToken(const ReadingToken&) = delete;
  ReadingToken& operator=(const ReadingToken&) = delete;

  // Takes the token if it is free. True: the caller is the leader and must
  // Release() it.
  bool TryTake() {
    bool free = false;
    return reading_.compare_exchange_strong(free, true);
  }

  // Frees the token. The leader then calls PassOn, so that a follower that
  // went to sleep while it read does not sleep until its deadline.
  void Release() { reading_.store(false); }

  // Follows until `follower` is done, offered the token, or at its deadline.
  // Returns true if it took the token instead of sleeping (then it leads).
  template <typename Follower>
  bool Follow(Follower* follower) {
    if (!follower->StartFollowing()) return false;  // Done already.
    // Announce, then look again: a leader that frees the token after this
    // look sees the announcement in PassOn and offers it to us.
    followers_.fetch_add(1);
    const bool took = TryTake();
    follower->FinishFollowing(/*sleep=*/!took);
    followers_.fetch_sub(1);
    return took;
  }

  // If the token is free while followers sleep, calls `offer_one()`, which
  // offers it to one of them (PendingCall::Offer) and wakes it. Called by a
  // leader that leaves, and by a follower that leaves (it may have been the
  // one offered the token, and not taken it).
  template <typename OfferOne>
  void PassOn(OfferOne offer_one) {
    if (followers_.load() == 0 || reading_.load()) return;
    offer_one();
  }

  bool held() const { return reading_.load(); }

 private:
  std::atomic<bool> reading_{false};  // Held by a leader.
  std::atomic<int> followers_{0};     // Callers inside Follow.
};

}  // namespace zen::rpc::internal

#endif  // ZEN_RPC_READING_TOKEN_H_
