// Which configured endpoint a request's route falls under, decided as the
// reference agent (aikido-zen 1.8.0) decides it, so that a worker and a
// parent of either implementation pick the same endpoint for a route.
//
// An endpoint is configured as (method, route); a request has a route
// (method, path) as its framework names it. Either configured string may
// hold `*`, which matches any run of characters, `/` included. A pattern
// matches when, ignoring ASCII case, it covers the whole string, allowing
// one extra `/` at its end: `GET /api/*` matches `get /API/x/y/`. (Like the
// reference, whose patterns are Ruby regular expressions anchored with `^`
// and `$`, a string holding line breaks matches when some run of whole
// lines of it does.)
//
// Endpoints are tried in one fixed order, which does not depend on the
// order of the document:
//   1. routes without `*` before routes with one;
//   2. then by (number of `*`) minus (length of the route), smallest first;
//   3. then by the positions of the `*`s, compared as lists;
//   4. then a method other than `*` before the method `*`;
//   5. then by route, then by method, bytewise.
// Lengths and positions count characters (UTF-8 code points), not bytes.
// Two endpoints with the same method and route are one: the later in the
// document wins.
//
// Match() first looks for an endpoint whose method and route equal the
// request's byte for byte; only when there is none does it take the first
// endpoint in the order above whose patterns match. ForEachMatch() visits
// every endpoint whose patterns match, in that order.
//
// Deliberate differences from the reference: case is folded for ASCII
// letters only (the reference folds all of Unicode, so `/CAFÉ` matches
// `/café` there and not here), and a route that is not valid UTF-8 is
// compared as bytes (the reference raises an error for it).
#ifndef ZEN_AGENT_MODEL_ENDPOINT_MATCHER_H_
#define ZEN_AGENT_MODEL_ENDPOINT_MATCHER_H_

#include <cstddef>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"

namespace zen {

// One configured method or route, compiled once: its text split at line
// breaks and at `*`, lower-cased. Matching allocates nothing and takes
// time linear in the text times the pattern's length at worst. Copyable;
// thread-safe for concurrent const use.
class WildcardPattern {
 public:
  explicit WildcardPattern(absl::string_view pattern);

  // True if the pattern matches `text` by the rules in the file comment.
  bool Matches(absl::string_view text) const {
    return Matches(text, HasLineBreak(text));
  }

  // The same, for a caller that has looked for a line break in `text`
  // already (one look per request, not one per endpoint).
  bool Matches(absl::string_view text, bool text_has_line_break) const {
    if (matches_all_) return true;
    if (lines_.size() == 1 && !text_has_line_break) return MatchesLine(text);
    return MatchesLines(text);
  }

  bool has_wildcard() const { return has_wildcard_; }

  static bool HasLineBreak(absl::string_view text) {
    return !text.empty() &&
           std::memchr(text.data(), '\n', text.size()) != nullptr;
  }

 private:
  // The literal runs between `*`s of one line, lower-cased; a line without
  // `*` has one.
  using Line = std::vector<std::string>;

  // The common case: a one-line pattern against a one-line text.
  bool MatchesLine(absl::string_view text) const;
  // Otherwise: the pattern's lines against each run of the text's lines.
  bool MatchesLines(absl::string_view text) const;
  bool MatchesFromLineStart(absl::string_view text) const;

  std::vector<Line> lines_;
  // The shortest text the one-line pattern can match: its runs' lengths.
  size_t min_length_ = 0;
  bool has_wildcard_ = false;
  // Only `*`s: matches every text.
  bool matches_all_ = false;
};

// The endpoints of one settings document, compiled for matching. Built
// once per document; copyable; thread-safe for concurrent const use.
class EndpointMatcher {
 public:
  static constexpr size_t kNone = static_cast<size_t>(-1);

  // No endpoints: nothing matches.
  EndpointMatcher() = default;

  // `routes[i]` is endpoint i's (method, route), in document order. The
  // views need not outlive the constructor.
  explicit EndpointMatcher(
      const std::vector<std::pair<absl::string_view, absl::string_view>>&
          routes);

  // The index (into the constructor's `routes`) of the endpoint a request
  // with this method and path falls under, or kNone.
  size_t Match(absl::string_view method, absl::string_view path) const;

  // Calls `visit(index)` for every endpoint whose patterns match, in the
  // matching order; stops early when `visit` returns false.
  template <typename Visit>
  void ForEachMatch(absl::string_view method, absl::string_view path,
                    Visit visit) const {
    const bool method_breaks = WildcardPattern::HasLineBreak(method);
    const bool path_breaks = WildcardPattern::HasLineBreak(path);
    for (const Entry& entry : entries_) {
      if (entry.path_pattern.Matches(path, path_breaks) &&
          entry.method_pattern.Matches(method, method_breaks) &&
          !visit(entry.index)) {
        return;
      }
    }
  }

  // Endpoint indices in matching order, duplicates left out.
  std::vector<size_t> order() const;

 private:
  struct Entry {
    size_t index;        // into the constructor's routes
    std::string method;  // as configured, for the exact lookup
    WildcardPattern method_pattern;
    WildcardPattern path_pattern;
  };

  std::vector<Entry> entries_;  // in matching order
  // Route -> positions in entries_, for the exact lookup.
  absl::flat_hash_map<std::string, std::vector<size_t>> by_path_;
};

}  // namespace zen

#endif  // ZEN_AGENT_MODEL_ENDPOINT_MATCHER_H_
