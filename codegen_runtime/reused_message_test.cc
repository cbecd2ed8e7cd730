#include "codegen_runtime/reused_message.h"

#include <string>

#include "codegen_runtime/testdata/codec_test.pb.h"
#include "gtest/gtest.h"

namespace zen::codegen_runtime {
namespace {

using Request = ReusedMessage<::zen::codegen_runtime::testing::Inner,
                              MessageRole::kRequest>;
using Response = ReusedMessage<::zen::codegen_runtime::testing::Inner,
                               MessageRole::kResponse>;

TEST(ReusedMessageTest, TheNextCallGetsTheSameMessageClearedWithItsBuffer) {
  const std::string* buffer = nullptr;
  {
    Request request;
    request->set_name(std::string(100, 'x'));
    buffer = &request->name();
  }
  Request again;
  EXPECT_EQ(again->name(), "");       // Nothing of the last call is left...
  EXPECT_EQ(&again->name(), buffer);  // ...but its string is reused.
  EXPECT_GE(again->name().capacity(), 100u);
}

TEST(ReusedMessageTest, RolesOfOneTypeAreDistinctMessages) {
  Request request;
  Response response;
  EXPECT_NE(request.get(), response.get());
}

TEST(ReusedMessageTest, NestedUseOnOneThreadGetsAFreshMessage) {
  Request outer;
  outer->set_name("outer");
  {
    Request inner;
    EXPECT_NE(inner.get(), outer.get());
    EXPECT_EQ(inner->name(), "");
    inner->set_name("inner");
  }
  EXPECT_EQ(outer->name(), "outer");
}

TEST(ReusedMessageTest, ALargeMessageIsNotKept) {
  {
    Request request;
    request->set_name(std::string(kReusedMessageKeepBytes + 1, 'x'));
  }
  Request next;
  EXPECT_LE(next->name().capacity(), kReusedMessageKeepBytes);
}

}  // namespace
}  // namespace zen::codegen_runtime
