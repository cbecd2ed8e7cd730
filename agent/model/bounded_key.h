// Bounds on what request data the parent keeps. Client IPs, actor ids and
// the paths of scanner probes come from requests, so from attackers: the
// maps keyed by them (rate-limit windows, attack-wave state) bound their
// entries, and these helpers bound each entry's bytes.
#ifndef ZEN_AGENT_MODEL_BOUNDED_KEY_H_
#define ZEN_AGENT_MODEL_BOUNDED_KEY_H_

#include <cstddef>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "agent/model/ip_set.h"

namespace zen {

// The most bytes a key kept for a client (IP or actor id) takes.
inline constexpr size_t kMaxKeyBytes = 128;

// `key` itself when it is at most kMaxKeyBytes long; otherwise its first
// bytes, a '~' and the hex SHA-256 of the whole key, kMaxKeyBytes in all.
// Distinct keys stay distinct (up to SHA-256 collisions), so a long actor
// id still gets a window of its own.
std::string BoundedKey(absl::string_view key);

// A client IP as a key: a valid IPv4 or IPv6 address in its canonical form
// (`::ffff:192.0.2.1` is `192.0.2.1`, IPv6 lower-case and compressed), so
// one client's spellings share their state; anything else BoundedKey's.
std::string ClientIpKey(absl::string_view client_ip);

// Where the forms below build a key: on the stack, so that a hot path (the
// rate limiter's, on every request) allocates nothing for it.
struct KeyBuffer {
  char bytes[kMaxKeyBytes];
};

// BoundedKey(key), as a view of `key` itself or of `*buffer`.
absl::string_view BoundedKeyView(absl::string_view key, KeyBuffer* buffer);

// ClientIpKey(client_ip), as a view of `client_ip` itself or of `*buffer`,
// for a caller that has parsed the IP already: `ip` must be
// IpAddress::Parse(client_ip).
absl::string_view ClientIpKeyView(absl::string_view client_ip,
                                  const std::optional<IpAddress>& ip,
                                  KeyBuffer* buffer);

// At most `max_bytes` of `text`, cut at a UTF-8 character boundary (a cut
// character would make the JSON that carries it invalid).
absl::string_view TruncateUtf8(absl::string_view text, size_t max_bytes);

// A name a person reads on the dashboard (a route, a host, a sink), at most
// `max_bytes` long: `text` itself when it fits; otherwise as much of its
// start as fits (cut at a UTF-8 boundary), a '~' and the first
// kBoundedTextDigestHex hex digits of the SHA-256 of the whole text. The
// start stays readable, and distinct long names stay distinct keys (a
// collision needs 2^32 names). Below kBoundedTextDigestHex + 2 bytes there
// is no room for the digest: the text is only cut (TruncateUtf8).
inline constexpr size_t kBoundedTextDigestHex = 16;
std::string BoundedText(absl::string_view text, size_t max_bytes);

}  // namespace zen

#endif  // ZEN_AGENT_MODEL_BOUNDED_KEY_H_
