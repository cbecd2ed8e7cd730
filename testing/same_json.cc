#include "testing/same_json.h"

#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"

namespace zen::testing {
namespace {

namespace pb = google::protobuf;

pb::Value ParseJson(const std::string& json) {
  pb::Value value;
  pb::util::Status status = pb::util::JsonStringToMessage(json, &value);
  EXPECT_TRUE(status.ok()) << status.ToString() << " in " << json;
  return value;
}

}  // namespace

::testing::AssertionResult SameJson(const std::string& actual,
                                    const std::string& expected) {
  if (pb::util::MessageDifferencer::Equals(ParseJson(actual),
                                           ParseJson(expected))) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure()
         << "\n  actual:   " << actual << "\n  expected: " << expected;
}

}  // namespace zen::testing
