// A strict parser of Prometheus' text exposition format (version 0.0.4),
// for tests that check what a scrape returns. Stricter than Prometheus
// itself where the format says SHOULD: what it accepts, any scraper does.
#ifndef ZEN_TESTING_EXPOSITION_PARSER_H_
#define ZEN_TESTING_EXPOSITION_PARSER_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace zen::testing {

using Labels = std::map<std::string, std::string>;

struct Sample {
  std::string name;  // As written: a histogram's carry _bucket/_sum/_count.
  Labels labels;
  double value = 0;
};

struct Family {
  std::string name;
  std::string type;  // counter, gauge, histogram, summary or untyped.
  std::string help;  // Unescaped.
  std::vector<Sample> samples;
};

struct Exposition {
  std::map<std::string, Family> families;

  // The value of the sample `name` with exactly `labels`, if there is one.
  std::optional<double> Value(absl::string_view name,
                              const Labels& labels = {}) const;
};

// Parses `text`, rejecting (kInvalidArgument, with the line number) what the
// format forbids or leaves to the scraper's mercy:
// * a line that is not a comment, a HELP, a TYPE or a sample; a missing
//   final newline; a timestamp that is not an integer;
// * a metric name not [a-zA-Z_:][a-zA-Z0-9_:]*, a label name not
//   [a-zA-Z_][a-zA-Z0-9_]* or starting with "__"; a label value with an
//   escape other than \\ \" \n, or unterminated; a label given twice;
// * a value that is not a float (or +Inf, -Inf, NaN);
// * a second HELP or TYPE for one family, a TYPE after the family's first
//   sample, an unknown type, a family whose lines are not together;
// * the same series (name and labels) twice;
// * counters below zero (or NaN); in a histogram: a sample name other than
//   _bucket, _sum, _count; a bucket without `le`, or `le` elsewhere; per
//   series, buckets not in increasing `le`, counts not cumulative, no +Inf
//   bucket, no _sum or _count, _count unlike the +Inf bucket.
absl::StatusOr<Exposition> ParseExposition(absl::string_view text);

}  // namespace zen::testing

#endif  // ZEN_TESTING_EXPOSITION_PARSER_H_
