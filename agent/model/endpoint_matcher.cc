#include "agent/model/endpoint_matcher.h"

#include <algorithm>
#include <cstdint>
#include <tuple>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"

namespace zen {
namespace {

// `text` starts with `lower` (already lower-case), ignoring ASCII case.
bool StartsWithFolded(absl::string_view text, absl::string_view lower) {
  if (text.size() < lower.size()) return false;
  for (size_t i = 0; i < lower.size(); ++i) {
    if (absl::ascii_tolower(static_cast<unsigned char>(text[i])) != lower[i]) {
      return false;
    }
  }
  return true;
}

// Where `lower` first occurs in `text`, ignoring ASCII case, or npos. A
// plain scan: routes are short, and patterns' literal runs shorter.
size_t FindFolded(absl::string_view text, absl::string_view lower) {
  if (lower.size() > text.size()) return absl::string_view::npos;
  for (size_t at = 0; at + lower.size() <= text.size(); ++at) {
    if (StartsWithFolded(text.substr(at), lower)) return at;
  }
  return absl::string_view::npos;
}

// One line of a pattern (its runs between `*`s) against one whole line of
// text, without the optional trailing slash. Leftmost-first placement of
// the middle runs is enough: with only `*` between them, any placement
// that fits leaves no less room for the rest.
bool LineMatchesExactly(const std::vector<std::string>& runs,
                        absl::string_view line) {
  if (runs.size() == 1) {
    return line.size() == runs[0].size() && StartsWithFolded(line, runs[0]);
  }
  const std::string& first = runs.front();
  const std::string& last = runs.back();
  if (line.size() < first.size() + last.size()) return false;
  // The end first: routes under one prefix (`/api/...`) tend to differ
  // there.
  if (!StartsWithFolded(line.substr(line.size() - last.size()), last) ||
      !StartsWithFolded(line, first)) {
    return false;
  }
  absl::string_view middle =
      line.substr(first.size(), line.size() - first.size() - last.size());
  for (size_t i = 1; i + 1 < runs.size(); ++i) {
    const size_t at = FindFolded(middle, runs[i]);
    if (at == absl::string_view::npos) return false;
    middle.remove_prefix(at + runs[i].size());
  }
  return true;
}

// The pattern's last line: one `/` more at the end is allowed.
bool LineMatches(const std::vector<std::string>& runs, absl::string_view line) {
  return LineMatchesExactly(runs, line) ||
         (!line.empty() && line.back() == '/' &&
          LineMatchesExactly(runs, line.substr(0, line.size() - 1)));
}

// The reference's ordering key for an endpoint (see the header's list).
struct OrderKey {
  OrderKey(absl::string_view endpoint_method, absl::string_view endpoint_path)
      : any_method(endpoint_method == "*"),
        path(endpoint_path),
        method(endpoint_method) {
    int64_t position = 0;
    for (const char c : endpoint_path) {
      if (c == '*') stars.push_back(position);
      if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++position;
    }
    has_stars = !stars.empty();
    stars_minus_length = static_cast<int64_t>(stars.size()) - position;
  }

  bool operator<(const OrderKey& other) const {
    return std::tie(has_stars, stars_minus_length, stars, any_method, path,
                    method) <
           std::tie(other.has_stars, other.stars_minus_length, other.stars,
                    other.any_method, other.path, other.method);
  }

  bool has_stars = false;
  int64_t stars_minus_length = 0;
  std::vector<int64_t> stars;  // code-point positions of `*` in the path
  bool any_method;
  absl::string_view path;
  absl::string_view method;
};

}  // namespace

WildcardPattern::WildcardPattern(absl::string_view pattern) {
  const std::string lower = absl::AsciiStrToLower(pattern);
  matches_all_ = !pattern.empty() &&
                 pattern.find_first_not_of('*') == absl::string_view::npos;
  has_wildcard_ = pattern.find('*') != absl::string_view::npos;
  for (absl::string_view line : absl::StrSplit(lower, '\n')) {
    lines_.push_back(absl::StrSplit(line, '*'));
  }
  for (const std::string& run : lines_[0]) min_length_ += run.size();
}

bool WildcardPattern::MatchesLine(absl::string_view text) const {
  // Most endpoints fail on length alone; test that before any byte.
  const Line& runs = lines_[0];
  if (!has_wildcard_) {
    const size_t length = runs[0].size();
    if (text.size() == length) return StartsWithFolded(text, runs[0]);
    return text.size() == length + 1 && text.back() == '/' &&
           StartsWithFolded(text, runs[0]);
  }
  if (text.size() < min_length_) return false;
  return LineMatches(runs, text);
}

bool WildcardPattern::MatchesLines(absl::string_view text) const {
  while (true) {
    if (MatchesFromLineStart(text)) return true;
    const size_t newline = text.find('\n');
    if (newline == absl::string_view::npos) return false;
    text.remove_prefix(newline + 1);
  }
}

bool WildcardPattern::MatchesFromLineStart(absl::string_view text) const {
  for (size_t i = 0; i + 1 < lines_.size(); ++i) {
    const size_t newline = text.find('\n');
    if (newline == absl::string_view::npos ||
        !LineMatchesExactly(lines_[i], text.substr(0, newline))) {
      return false;
    }
    text.remove_prefix(newline + 1);
  }
  return LineMatches(lines_.back(), text.substr(0, text.find('\n')));
}

EndpointMatcher::EndpointMatcher(
    const std::vector<std::pair<absl::string_view, absl::string_view>>&
        routes) {
  // The last of each (method, route) in the document stands for it.
  std::vector<size_t> kept;
  absl::flat_hash_set<std::pair<absl::string_view, absl::string_view>> seen;
  for (size_t i = routes.size(); i-- > 0;) {
    if (seen.insert(routes[i]).second) kept.push_back(i);
  }
  std::vector<std::pair<OrderKey, size_t>> keyed;
  keyed.reserve(kept.size());
  for (const size_t i : kept) {
    keyed.emplace_back(OrderKey(routes[i].first, routes[i].second), i);
  }
  std::sort(keyed.begin(), keyed.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  entries_.reserve(keyed.size());
  for (const auto& [key, index] : keyed) {
    const auto& [method, path] = routes[index];
    by_path_[path].push_back(entries_.size());
    entries_.push_back(Entry{index, std::string(method),
                             WildcardPattern(method), WildcardPattern(path)});
  }
}

size_t EndpointMatcher::Match(absl::string_view method,
                              absl::string_view path) const {
  if (const auto it = by_path_.find(path); it != by_path_.end()) {
    for (const size_t position : it->second) {
      if (entries_[position].method == method) {
        return entries_[position].index;
      }
    }
  }
  size_t found = kNone;
  ForEachMatch(method, path, [&found](size_t index) {
    found = index;
    return false;
  });
  return found;
}

std::vector<size_t> EndpointMatcher::order() const {
  std::vector<size_t> indices;
  indices.reserve(entries_.size());
  for (const Entry& entry : entries_) indices.push_back(entry.index);
  return indices;
}

}  // namespace zen
