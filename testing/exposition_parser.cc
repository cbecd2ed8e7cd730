#include "testing/exposition_parser.h"

#include <cmath>
#include <cstdlib>
#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace zen::testing {
namespace {

bool IsMetricName(absl::string_view s) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (!(absl::ascii_isalpha(c) || c == '_' || c == ':' ||
          (i > 0 && absl::ascii_isdigit(c)))) {
      return false;
    }
  }
  return true;
}

bool IsLabelName(absl::string_view s) {
  if (s.empty() || absl::StartsWith(s, "__")) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (!(absl::ascii_isalpha(c) || c == '_' ||
          (i > 0 && absl::ascii_isdigit(c)))) {
      return false;
    }
  }
  return true;
}

bool ParseValue(absl::string_view token, double* value) {
  if (token == "+Inf") {
    *value = HUGE_VAL;
    return true;
  }
  if (token == "-Inf") {
    *value = -HUGE_VAL;
    return true;
  }
  if (token == "NaN") {
    *value = std::nan("");
    return true;
  }
  if (token.empty()) return false;
  for (char c : token) {
    if (!(absl::ascii_isdigit(c) || c == '+' || c == '-' || c == '.' ||
          c == 'e' || c == 'E')) {
      return false;  // No hex floats, "inf", "nan", "infinity".
    }
  }
  const std::string copy(token);
  char* end = nullptr;
  *value = std::strtod(copy.c_str(), &end);
  return end == copy.c_str() + copy.size();
}

bool IsTimestamp(absl::string_view token) {
  if (absl::StartsWith(token, "-")) token.remove_prefix(1);
  if (token.empty()) return false;
  for (char c : token) {
    if (!absl::ascii_isdigit(c)) return false;
  }
  return true;
}

// Parses `{a="x",b="y"}` at the start of *rest (consumed).
absl::Status ParseLabels(absl::string_view* rest, Labels* labels) {
  absl::string_view s = *rest;
  s.remove_prefix(1);  // '{'
  if (absl::StartsWith(s, "}")) {
    *rest = s.substr(1);
    return absl::OkStatus();
  }
  for (;;) {
    size_t eq = s.find('=');
    if (eq == absl::string_view::npos) {
      return absl::InvalidArgumentError("label without '='");
    }
    const std::string name(s.substr(0, eq));
    if (!IsLabelName(name)) {
      return absl::InvalidArgumentError(
          absl::StrCat("bad label name '", name, "'"));
    }
    s.remove_prefix(eq + 1);
    if (!absl::StartsWith(s, "\"")) {
      return absl::InvalidArgumentError("label value not quoted");
    }
    s.remove_prefix(1);
    std::string value;
    bool closed = false;
    while (!s.empty()) {
      const char c = s[0];
      s.remove_prefix(1);
      if (c == '"') {
        closed = true;
        break;
      }
      if (c != '\\') {
        value.push_back(c);
        continue;
      }
      if (s.empty()) break;
      const char e = s[0];
      s.remove_prefix(1);
      if (e == '\\') {
        value.push_back('\\');
      } else if (e == '"') {
        value.push_back('"');
      } else if (e == 'n') {
        value.push_back('\n');
      } else {
        return absl::InvalidArgumentError(
            absl::StrCat("bad escape '\\", std::string(1, e), "'"));
      }
    }
    if (!closed) return absl::InvalidArgumentError("unterminated label value");
    if (!labels->emplace(name, std::move(value)).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("label '", name, "' given twice"));
    }
    if (absl::StartsWith(s, "}")) {
      s.remove_prefix(1);
      break;
    }
    if (!absl::StartsWith(s, ",")) {
      return absl::InvalidArgumentError("expected ',' or '}'");
    }
    s.remove_prefix(1);
    if (absl::StartsWith(s, "}")) {
      return absl::InvalidArgumentError("trailing comma");
    }
  }
  *rest = s;
  return absl::OkStatus();
}

std::string SeriesKey(absl::string_view name, const Labels& labels) {
  std::string key(name);
  for (const auto& [k, v] : labels) absl::StrAppend(&key, "\x01", k, "=", v);
  return key;
}

// Checks one histogram family's series.
absl::Status CheckHistogram(const Family& family) {
  struct Series {
    std::vector<std::pair<double, double>> buckets;  // (le, count)
    std::optional<double> sum, count;
  };
  std::map<std::string, Series> series;
  for (const Sample& s : family.samples) {
    Labels labels = s.labels;
    const std::string suffix = s.name.substr(family.name.size());
    auto le = labels.find("le");
    if (suffix == "_bucket") {
      if (le == labels.end()) {
        return absl::InvalidArgumentError(
            absl::StrCat(family.name, ": bucket without le"));
      }
      double bound;
      if (!ParseValue(le->second, &bound) || std::isnan(bound)) {
        return absl::InvalidArgumentError(
            absl::StrCat(family.name, ": bad le '", le->second, "'"));
      }
      labels.erase(le);
      series[SeriesKey("", labels)].buckets.emplace_back(bound, s.value);
      continue;
    }
    if (le != labels.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat(s.name, ": le outside a bucket"));
    }
    Series& one = series[SeriesKey("", labels)];
    if (suffix == "_sum") {
      one.sum = s.value;
    } else if (suffix == "_count") {
      one.count = s.value;
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat(s.name, ": not a histogram sample name"));
    }
  }
  for (const auto& [key, one] : series) {
    const std::string where = absl::StrCat(family.name, key);
    for (size_t i = 0; i < one.buckets.size(); ++i) {
      if (one.buckets[i].second < 0 || std::isnan(one.buckets[i].second)) {
        return absl::InvalidArgumentError(where + ": negative bucket");
      }
      if (i == 0) continue;
      if (!(one.buckets[i].first > one.buckets[i - 1].first)) {
        return absl::InvalidArgumentError(where + ": le not increasing");
      }
      if (one.buckets[i].second < one.buckets[i - 1].second) {
        return absl::InvalidArgumentError(where + ": buckets not cumulative");
      }
    }
    if (one.buckets.empty() || !std::isinf(one.buckets.back().first)) {
      return absl::InvalidArgumentError(where + ": no +Inf bucket");
    }
    if (!one.sum.has_value() || !one.count.has_value()) {
      return absl::InvalidArgumentError(where + ": no _sum or _count");
    }
    if (*one.count != one.buckets.back().second) {
      return absl::InvalidArgumentError(where + ": _count != +Inf bucket");
    }
  }
  return absl::OkStatus();
}

class Parser {
 public:
  absl::Status Line(absl::string_view line) {
    if (line.empty()) return absl::OkStatus();
    if (line[0] == '#') return Comment(line);
    return SampleLine(line);
  }

  absl::StatusOr<Exposition> Finish() {
    for (const auto& [name, family] : result_.families) {
      if (family.type == "counter") {
        for (const Sample& s : family.samples) {
          if (s.name != name) {
            return absl::InvalidArgumentError(
                absl::StrCat(s.name, ": not the counter's name"));
          }
          if (!(s.value >= 0)) {
            return absl::InvalidArgumentError(
                absl::StrCat(s.name, ": counter below zero"));
          }
        }
      } else if (family.type == "histogram") {
        absl::Status checked = CheckHistogram(family);
        if (!checked.ok()) return checked;
      }
    }
    return std::move(result_);
  }

 private:
  absl::Status Comment(absl::string_view line) {
    std::vector<absl::string_view> words =
        absl::StrSplit(line, absl::MaxSplits(' ', 3));
    if (words.size() < 3 || words[0] != "#" ||
        (words[1] != "HELP" && words[1] != "TYPE")) {
      return absl::OkStatus();  // A plain comment.
    }
    const absl::string_view name = words[2];
    if (!IsMetricName(name)) {
      return absl::InvalidArgumentError(
          absl::StrCat("bad metric name '", name, "'"));
    }
    const absl::string_view text = words.size() > 3 ? words[3] : "";
    absl::Status entered = Enter(std::string(name));
    if (!entered.ok()) return entered;
    Family& family = result_.families[std::string(name)];
    family.name = std::string(name);
    if (words[1] == "TYPE") {
      if (typed_.count(family.name)) {
        return absl::InvalidArgumentError("second TYPE for " + family.name);
      }
      if (!family.samples.empty()) {
        return absl::InvalidArgumentError("TYPE after samples of " +
                                          family.name);
      }
      static const std::set<std::string> kTypes = {
          "counter", "gauge", "histogram", "summary", "untyped"};
      if (!kTypes.count(std::string(text))) {
        return absl::InvalidArgumentError(
            absl::StrCat("unknown type '", text, "'"));
      }
      typed_.insert(family.name);
      family.type = std::string(text);
      return absl::OkStatus();
    }
    if (!helped_.insert(family.name).second) {
      return absl::InvalidArgumentError("second HELP for " + family.name);
    }
    std::string help;
    for (size_t i = 0; i < text.size(); ++i) {
      if (text[i] != '\\') {
        help.push_back(text[i]);
        continue;
      }
      if (i + 1 == text.size()) {
        return absl::InvalidArgumentError("HELP ends in a backslash");
      }
      const char e = text[++i];
      if (e == '\\') {
        help.push_back('\\');
      } else if (e == 'n') {
        help.push_back('\n');
      } else {
        return absl::InvalidArgumentError("bad escape in HELP");
      }
    }
    family.help = std::move(help);
    return absl::OkStatus();
  }

  absl::Status SampleLine(absl::string_view line) {
    size_t name_end = 0;
    while (name_end < line.size() && line[name_end] != '{' &&
           line[name_end] != ' ') {
      ++name_end;
    }
    Sample sample;
    sample.name = std::string(line.substr(0, name_end));
    if (!IsMetricName(sample.name)) {
      return absl::InvalidArgumentError(
          absl::StrCat("bad metric name '", sample.name, "'"));
    }
    absl::string_view rest = line.substr(name_end);
    if (absl::StartsWith(rest, "{")) {
      absl::Status labels = ParseLabels(&rest, &sample.labels);
      if (!labels.ok()) return labels;
    }
    if (!absl::StartsWith(rest, " ")) {
      return absl::InvalidArgumentError("no space before the value");
    }
    rest.remove_prefix(1);
    std::vector<absl::string_view> tokens = absl::StrSplit(rest, ' ');
    if (tokens.empty() || tokens.size() > 2 ||
        !ParseValue(tokens[0], &sample.value)) {
      return absl::InvalidArgumentError(absl::StrCat("bad value '", rest, "'"));
    }
    if (tokens.size() == 2 && !IsTimestamp(tokens[1])) {
      return absl::InvalidArgumentError("bad timestamp");
    }
    if (!series_.insert(SeriesKey(sample.name, sample.labels)).second) {
      return absl::InvalidArgumentError("duplicate series " + sample.name);
    }
    const std::string family_name = FamilyOf(sample.name);
    absl::Status entered = Enter(family_name);
    if (!entered.ok()) return entered;
    Family& family = result_.families[family_name];
    if (family.name.empty()) {
      family.name = family_name;
    }
    if (family.type.empty()) family.type = "untyped";
    family.samples.push_back(std::move(sample));
    return absl::OkStatus();
  }

  // The family a sample belongs to: a histogram's or summary's for its
  // suffixed names, else the name itself.
  std::string FamilyOf(const std::string& name) const {
    for (absl::string_view suffix : {"_bucket", "_sum", "_count"}) {
      if (!absl::EndsWith(name, suffix)) continue;
      const std::string base = name.substr(0, name.size() - suffix.size());
      auto it = result_.families.find(base);
      if (it != result_.families.end() &&
          (it->second.type == "histogram" ||
           (it->second.type == "summary" && suffix != "_bucket"))) {
        return base;
      }
    }
    return name;
  }

  // Lines of one family come together: entering a family closes the last.
  absl::Status Enter(const std::string& family) {
    if (family == current_) return absl::OkStatus();
    if (closed_.count(family)) {
      return absl::InvalidArgumentError("lines of " + family +
                                        " are not together");
    }
    if (!current_.empty()) closed_.insert(current_);
    current_ = family;
    return absl::OkStatus();
  }

  Exposition result_;
  std::set<std::string> typed_, helped_, series_, closed_;
  std::string current_;
};

}  // namespace

std::optional<double> Exposition::Value(absl::string_view name,
                                        const Labels& labels) const {
  for (const auto& [family_name, family] : families) {
    for (const Sample& s : family.samples) {
      if (s.name == name && s.labels == labels) return s.value;
    }
  }
  return std::nullopt;
}

absl::StatusOr<Exposition> ParseExposition(absl::string_view text) {
  if (!text.empty() && text.back() != '\n') {
    return absl::InvalidArgumentError("no newline at the end");
  }
  Parser parser;
  int number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++number;
    absl::Status parsed = parser.Line(line);
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("line ", number, ": ", parsed.message()));
    }
  }
  return parser.Finish();
}

}  // namespace zen::testing
