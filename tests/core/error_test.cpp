// Error messages quote names from files and arguments: whatever bytes those hold, the message
// stays whole, on one line and printable.
#include "pitlane/core/error.h"

#include <gtest/gtest.h>

#include <string>

namespace pitlane {
namespace {

TEST(Error, NulDoesNotCutTheMessageShort) {
  const std::string name("model\0evil.onnx", 15);
  const InputError e(name + ": not a valid ONNX model");
  EXPECT_EQ(std::string(e.what()), "model\\0evil.onnx: not a valid ONNX model");
}

TEST(Error, ControlBytesAndInvalidUtf8AreEscaped) {
  EXPECT_EQ(printable_message("a\nb\tc\rd\x1b[31m"), "a\\nb\\tc\\rd\\x1b[31m");
  EXPECT_EQ(printable_message("bad \xff\xfe byte"), "bad \\xff\\xfe byte");
  EXPECT_EQ(printable_message("cut \xc3"), "cut \\xc3");                       // truncated sequence
  EXPECT_EQ(printable_message("over \xc0\xaf long"), "over \\xc0\\xaf long");  // overlong '/'
  EXPECT_EQ(printable_message("sur \xed\xa0\x80"), "sur \\xed\\xa0\\x80");     // a surrogate
  EXPECT_EQ(printable_message("\x7f"), "\\x7f");
  // Valid UTF-8 passes through: 2, 3 and 4 byte sequences.
  EXPECT_EQ(printable_message("N\xc3\xbcrburgring \xe2\x86\x92 \xf0\x9f\x8f\x81"),
            "N\xc3\xbcrburgring \xe2\x86\x92 \xf0\x9f\x8f\x81");
  EXPECT_EQ(std::string(RunError("x\ny").what()), "x\\ny");
}

}  // namespace
}  // namespace pitlane
