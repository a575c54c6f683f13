#include "base/text.h"

#include <gtest/gtest.h>

namespace tidemark {
namespace {

TEST(EscapeControlsTest, EscapesTerminalSequencesAndKeepsTheRest) {
  EXPECT_EQ(EscapeControls("plain é"), "plain é");
  EXPECT_EQ(EscapeControls("\x1b[2Jgone"), "\\x1b[2Jgone");
  EXPECT_EQ(EscapeControls("a\nb\tc\rd"), "a\\nb\\tc\\rd");
  EXPECT_EQ(EscapeControls(std::string_view("nul\0x", 5)), "nul\\x00x");
  EXPECT_EQ(EscapeControls("\x7f"), "\\x7f");
  EXPECT_EQ(EscapeControls("\xc2\x9b"
                           "31m"),
            "\\u009b31m");                            // the one-byte CSI
  EXPECT_EQ(EscapeControls("\xc2\xa0"), "\xc2\xa0");  // no-break space is printable
}

TEST(PrintableTest, ShortensLongTokensAndGivesTheirLength) {
  EXPECT_EQ(Printable("short"), "short");
  std::string big(1 << 20, 'A');
  std::string p = Printable(big, 40);
  EXPECT_LE(p.size(), 40u + 20u);
  EXPECT_NE(p.find("... (1048576 bytes)"), std::string::npos) << p;
}

TEST(PrintableTest, NeverCutsAnEscapeOrACharacterInHalf) {
  std::string text;
  for (int i = 0; i < 40; ++i) text += "\x1b";
  std::string p = Printable(text, 18);
  EXPECT_EQ(p.substr(0, 12), "\\x1b\\x1b\\x1b");
  EXPECT_EQ(p.find("\\x1b\\x1b\\x1b\\x1"), p.find("\\x1b\\x1b\\x1b\\x1b"));
  std::string accents;
  for (int i = 0; i < 40; ++i) accents += "é";
  std::string q = Printable(accents, 17);
  EXPECT_EQ(q.substr(0, q.find("...")).size() % 2, 0u) << q;
}

TEST(CountOfTest, TheNounAgreesWithTheCount) {
  EXPECT_EQ(CountOf(0, "window", "windows"), "0 windows");
  EXPECT_EQ(CountOf(1, "window", "windows"), "1 window");
  EXPECT_EQ(CountOf(2, "leader change", "leader changes"), "2 leader changes");
  EXPECT_EQ(CountOf(-1, "time", "times"), "-1 times");
}

}  // namespace
}  // namespace tidemark
