#include "agent/model/api_schema.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace zen {
namespace {

// The samples merged in order, as JSON; "error: ..." if one does not parse.
std::string Merged(const std::vector<std::string>& samples) {
  ApiSchema schema;
  for (const std::string& json : samples) {
    absl::StatusOr<ApiSchema> sample = ApiSchema::FromJson(json);
    if (!sample.ok()) return "error: " + sample.status().ToString();
    schema.Merge(*sample);
  }
  return schema.ToJson();
}

// A query-only sample with `definition` as the query's schema.
std::string Query(const std::string& definition) {
  return R"({"query":)" + definition + "}";
}

TEST(ApiSchemaTest, EmptyUntilASampleIsMerged) {
  ApiSchema schema;
  EXPECT_TRUE(schema.empty());
  EXPECT_EQ(schema.ToJson(), "");
  schema.Merge(ApiSchema());  // merging nil changes nothing
  EXPECT_TRUE(schema.empty());
  EXPECT_EQ(Merged({"{}"}), "{}");
  EXPECT_EQ(Merged({"{}", "{}"}), "{}");
}

TEST(ApiSchemaTest, RoundTripsOneSample) {
  const std::string sample =
      R"({"body":{"type":"json","schema":{"type":"object","properties":)"
      R"({"a":{"type":"array","items":{"type":"number"}},"b":{"type":)"
      R"(["null","string"],"optional":true}}}},"query":{"type":"object",)"
      R"("properties":{}},"auth":[{"type":"http","scheme":"basic"},)"
      R"({"type":"apiKey","in":"cookie","name":"sid"}]})";
  EXPECT_EQ(Merged({sample}), sample);
}

TEST(ApiSchemaTest, PropertyMissingOnOneSideBecomesOptional) {
  EXPECT_EQ(
      Merged(
          {Query(R"({"type":"object","properties":{"a":{"type":"string"}}})"),
           Query(R"({"type":"object","properties":{"b":{"type":"number"}}})")}),
      R"({"query":{"type":"object","properties":{"a":{"type":"string",)"
      R"("optional":true},"b":{"type":"number","optional":true}}}})");
}

TEST(ApiSchemaTest, NullMergedWithATypeMakesItOptional) {
  EXPECT_EQ(
      Merged({Query(R"({"type":"null"})"), Query(R"({"type":"string"})")}),
      R"({"query":{"type":"string","optional":true}})");
  EXPECT_EQ(
      Merged({Query(R"({"type":"string"})"), Query(R"({"type":"null"})")}),
      R"({"query":{"type":"string","optional":true}})");
}

TEST(ApiSchemaTest, DifferentTypesBecomeASortedList) {
  EXPECT_EQ(
      Merged({Query(R"({"type":"string"})"), Query(R"({"type":"number"})"),
              Query(R"({"type":"boolean"})"), Query(R"({"type":"string"})")}),
      R"({"query":{"type":["boolean","number","string"]}})");
  // The reference's from_json keeps only the type and "optional" of a list.
  EXPECT_EQ(Merged({Query(R"({"type":["string","object"],"properties":{}})")}),
            R"({"query":{"type":["string","object"]}})");
}

TEST(ApiSchemaTest, SameTypeMergesTheRestRightWins) {
  EXPECT_EQ(Merged({Query(R"({"type":"string","optional":true})"),
                    Query(R"({"type":"string"})")}),
            R"({"query":{"type":"string","optional":true}})");
  EXPECT_EQ(Merged({Query(R"({"type":"string","optional":true})"),
                    Query(R"({"type":"string","optional":false})")}),
            R"({"query":{"type":"string","optional":false}})");
}

TEST(ApiSchemaTest, ArraysMergeTheirItems) {
  EXPECT_EQ(Merged({Query(R"({"type":"array","items":{"type":"string"}})"),
                    Query(R"({"type":"array"})")}),
            R"({"query":{"type":"array","items":{"type":"string"}}})");
  EXPECT_EQ(
      Merged({Query(R"({"type":"array","items":{"type":"string"}})"),
              Query(R"({"type":"array","items":{"type":"number"}})")}),
      R"({"query":{"type":"array","items":{"type":["number","string"]}}})");
}

TEST(ApiSchemaTest, NestedObjectsMergeRecursively) {
  EXPECT_EQ(
      Merged(
          {Query(R"({"type":"object","properties":{"o":{"type":"object",)"
                 R"("properties":{"x":{"type":"string"}}}}})"),
           Query(
               R"({"type":"object","properties":{"o":{"type":"object",)"
               R"("properties":{"x":{"type":"string"},"y":{"type":"null"}}}}})")}),
      // "y" is missing on the left, so merged with null: equal, so a copy,
      // not made optional (Definition#merge's first case).
      R"({"query":{"type":"object","properties":{"o":{"type":"object",)"
      R"("properties":{"x":{"type":"string"},"y":{"type":"null"}}}}}})");
}

TEST(ApiSchemaTest, ContentTypeComesFromTheLatestSampleEvenWithoutBody) {
  const std::string json_body =
      R"({"body":{"type":"json","schema":{"type":"string"}}})";
  EXPECT_EQ(Merged({json_body, R"({"body":{"type":"xml"}})"}),
            R"({"body":{"type":"xml","schema":{"type":"string"}}})");
  // Request::Schema#merge takes the other's content type, nil included.
  EXPECT_EQ(
      Merged({json_body, Query(R"({"type":"string"})")}),
      R"({"body":{"schema":{"type":"string"}},"query":{"type":"string"}})");
}

TEST(ApiSchemaTest, AuthSchemesAreAddedOnceInOrder) {
  EXPECT_EQ(
      Merged(
          {R"({"auth":[{"type":"http","scheme":"Bearer"}]})",
           R"({"auth":[{"type":"apiKey","in":"header","name":"k"},)"
           R"({"type":"http","scheme":"Bearer"},{"type":"apiKey","name":"k"}]})"}),
      R"({"auth":[{"type":"http","scheme":"bearer"},)"
      R"({"type":"apiKey","in":"header","name":"k"},)"
      R"({"type":"apiKey","name":"k"}]})");
}

TEST(ApiSchemaTest, SizeCountsPartsAndBoundsMerges) {
  EXPECT_EQ(ApiSchema().size(), 0u);
  EXPECT_EQ(ApiSchema::FromJson("{}")->size(), 1u);
  absl::StatusOr<ApiSchema> sample = ApiSchema::FromJson(
      R"({"body":{"schema":{"type":"object","properties":{"a":{"type":)"
      R"("array","items":{"type":"string"}}}}},"query":{"type":"null"},)"
      R"("auth":[{"type":"http","scheme":"basic"}]})");
  ASSERT_TRUE(sample.ok());
  EXPECT_EQ(sample->size(), 6u);  // itself, 3 + 1 definitions, 1 scheme
  ApiSchema merged;
  merged.Merge(*sample);
  merged.Merge(*sample);
  EXPECT_EQ(merged.size(), 12u);
}

TEST(ApiSchemaTest, RejectsWhatTheReferenceRejects) {
  for (const char* bad : {
           R"([])",
           R"({"query":{"type":"apple"}})",
           R"({"query":{"properties":{}}})",
           R"({"query":{"type":"object"}})",
           R"({"query":{"type":"object","properties":{"a":null}}})",
           R"({"query":{"type":"string","optional":"yes"}})",
           R"({"query":{"type":[1]}})",
           R"({"body":{"type":7}})",
           R"({"auth":[{"type":"oauth"}]})",
           R"({"auth":[{"type":"http"}]})",
           R"({"query":)",
       }) {
    EXPECT_EQ(ApiSchema::FromJson(bad).status().code(),
              absl::StatusCode::kInvalidArgument)
        << bad;
  }
}

TEST(ApiSchemaTest, BoundsDepthAndSize) {
  std::string deep = R"({"type":"string"})";
  for (int i = 0; i < ApiSchema::kMaxDepth; ++i) {
    deep = R"({"type":"array","items":)" + deep + "}";
  }
  EXPECT_EQ(ApiSchema::FromJson(Query(deep)).status().code(),
            absl::StatusCode::kInvalidArgument);
  std::string big(ApiSchema::kMaxJsonBytes, ' ');
  big[0] = '{';
  big.back() = '}';
  EXPECT_TRUE(ApiSchema::FromJson(big).ok());
  EXPECT_EQ(ApiSchema::FromJson(big + " ").status().code(),
            absl::StatusCode::kResourceExhausted);
}

}  // namespace
}  // namespace zen
