#include "reports/html.h"

#include <gtest/gtest.h>

namespace tidemark::reports {
namespace {

TEST(EscapeHtmlTest, ScriptTagAndQuotesBecomeText) {
  EXPECT_EQ(EscapeHtml("<script>alert(\"x\")</script>"),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;");
  EXPECT_EQ(EscapeHtml("a'b&c"), "a&#39;b&amp;c");
}

TEST(EscapeHtmlTest, InvalidUtf8IsReplaced) {
  EXPECT_EQ(EscapeHtml(std::string("a\xff"
                                   "b")),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(ValidUtf8("héllo ✓"), "héllo ✓");
  EXPECT_EQ(ValidUtf8(std::string("\xC0\x80")), "\xEF\xBF\xBD\xEF\xBF\xBD");  // overlong NUL
}

TEST(EscapeXmlTest, EscapesAndDropsControlCharacters) {
  EXPECT_EQ(EscapeXml("<a b=\"c\">'&'</a>"),
            "&lt;a b=&quot;c&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;");
  EXPECT_EQ(EscapeXml(std::string("x\x01y\tz\n")), "x\xEF\xBF\xBDy\tz\n");
}

TEST(ScriptJsonTest, CannotCloseTheScriptOrOpenAComment) {
  nlohmann::json j = {{"v", "</script><script>alert(1)</script>"},
                      {"c", "<!-- x -->"},
                      {"a", "a&b"},
                      {"ls", "x\u2028y"}};
  std::string s = ScriptJson(j);
  EXPECT_EQ(s.find("</"), std::string::npos) << s;
  EXPECT_EQ(s.find("<!--"), std::string::npos) << s;
  EXPECT_EQ(s.find('<'), std::string::npos) << s;
  EXPECT_EQ(s.find('>'), std::string::npos) << s;
  EXPECT_NE(s.find("\\u003c/script\\u003e"), std::string::npos) << s;
  EXPECT_NE(s.find("\\u2028"), std::string::npos) << s;
  // It is still JSON, and means the same.
  EXPECT_EQ(nlohmann::json::parse(s), j);
}

TEST(ReplaceAllTest, ReplacesEveryOccurrenceAndNotInsideTheValue) {
  std::string t = "<!--@X@--> and <!--@X@-->";
  EXPECT_EQ(ReplaceAll(t, "<!--@X@-->", "<!--@X@-->!"), 2);
  EXPECT_EQ(t, "<!--@X@-->! and <!--@X@-->!");
}

}  // namespace
}  // namespace tidemark::reports
