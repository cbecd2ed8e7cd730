// Which address a request came from, for the firewall lists and the rate
// limiter.
#ifndef ZEN_EXAMPLES_CLIENT_IP_H_
#define ZEN_EXAMPLES_CLIENT_IP_H_

#include <string>

#include "absl/strings/string_view.h"

namespace zen::examples {

// The client address of a request: the first entry of `x_forwarded_for`
// (the header's value; empty when absent) that is an IP address, else
// `peer_address` (the socket's peer) as given.
//
// Entries are comma-separated and may carry surrounding spaces, a port
// (`1.2.3.4:8080`, `[2001:db8::1]:443`) or brackets (`[2001:db8::1]`); those
// are stripped, and entries that are still not an address (`unknown`, a host
// name, garbage) are skipped. The result is the address in the form it was
// written, without port or brackets.
//
// Trusting X-Forwarded-For is right only behind a reverse proxy that sets it
// and strips what clients send; a server reachable directly must use the peer
// address, or anyone can pick the address they are judged by. The example
// trusts it so that one loopback client can stand in for many.
std::string ClientIp(absl::string_view x_forwarded_for,
                     absl::string_view peer_address);

}  // namespace zen::examples

#endif  // ZEN_EXAMPLES_CLIENT_IP_H_
