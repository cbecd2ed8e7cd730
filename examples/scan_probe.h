// Whether a request looks like a web scanner's probe: what a host's
// middleware reports to the agent's attack-wave detector
// (AgentClient::RecordAttackWave). One such request is nothing; a burst of
// them from one client is an attack wave, which the parent's one detector
// flags once across every worker.
//
// This is the example's own short classifier, not the reference's lists: a
// real host keeps a maintained list of scanner probes.
#ifndef ZEN_EXAMPLES_SCAN_PROBE_H_
#define ZEN_EXAMPLES_SCAN_PROBE_H_

#include "absl/strings/string_view.h"

namespace zen::examples {

// True for a method that is no HTTP method (scanners send made-up ones),
// or a path that reaches for hidden files or directories (`/.env`,
// `/.git/config`; `/.well-known/` is fine), backups and dumps (`.bak`,
// `.sql`, `.old`, ...), or admin tools an application rarely hosts
// (`wp-admin`, `phpmyadmin`, `cgi-bin`). Case-insensitive; `path` is the
// path without the query.
bool IsScanProbe(absl::string_view method, absl::string_view path);

}  // namespace zen::examples

#endif  // ZEN_EXAMPLES_SCAN_PROBE_H_
