#include "reports/junit.h"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "runstore/store.h"

namespace tidemark::reports {
namespace {

using nlohmann::json;

size_t Count(const std::string& s, const std::string& needle) {
  size_t n = 0;
  for (size_t p = s.find(needle); p != std::string::npos; p = s.find(needle, p + 1)) ++n;
  return n;
}

json Results() {
  return json{
      {"verdict", "invalid"},
      {"duration_s", 1.5},
      {"checkers",
       {{{"checker", "log-prefix"},
         {"verdict", "invalid"},
         {"summary", "invalid: lost-write ×1"},
         {"explanation", "a <b> & \"c\""},
         {"details",
          {{"anomalies",
            {{"lost-write",
              {{"count", 1},
               {"examples", {{{"explanation", "append </script> was lost"}, {"ops", {1}}}}}}}}}}}},
        {{"checker", "log-replicas"}, {"verdict", "valid"}, {"summary", "ok"}},
        {{"checker", "linearizability"},
         {"verdict", "unknown"},
         {"summary", "timeout after 60 s"},
         {"details", {{"reason", "timeout"}}}}}}};
}

TEST(JUnitTest, OneTestcasePerCheckerWithFailureAndSkipped) {
  std::string x = RenderJUnit("tidelog-log-partition", Results());
  EXPECT_EQ(Count(x, "<testcase "), 3u) << x;
  EXPECT_EQ(Count(x, "<failure "), 1u) << x;
  EXPECT_EQ(Count(x, "<skipped "), 1u) << x;
  EXPECT_NE(x.find("tests=\"3\" failures=\"1\" errors=\"0\" skipped=\"1\""), std::string::npos)
      << x;
  EXPECT_NE(x.find("name=\"log-replicas\"/>"), std::string::npos) << x;
  // The failure message is the first anomaly, escaped.
  EXPECT_NE(x.find("message=\"lost-write: append &lt;/script&gt; was lost\""), std::string::npos)
      << x;
  EXPECT_NE(x.find("a &lt;b&gt; &amp; &quot;c&quot;"), std::string::npos) << x;
  EXPECT_EQ(x.find("</script>"), std::string::npos) << x;
  EXPECT_NE(x.find("<skipped message=\"unknown: timeout after 60 s\"/>"), std::string::npos) << x;
}

TEST(JUnitTest, AllValidHasNoFailure) {
  json r = {{"verdict", "valid"},
            {"checkers", {{{"checker", "linearizability"}, {"verdict", "valid"}}}}};
  std::string x = RenderJUnit("t", r);
  EXPECT_EQ(Count(x, "<testcase "), 1u);
  EXPECT_EQ(Count(x, "<failure"), 0u);
  EXPECT_EQ(Count(x, "<skipped"), 0u);
  EXPECT_NE(x.find("failures=\"0\""), std::string::npos);
}

TEST(JUnitTest, InvalidWithoutAnomaliesUsesTheSummary) {
  json r = {{"checkers",
             {{{"checker", "linearizability"},
               {"verdict", "invalid"},
               {"summary", "invalid on key \"k1\": read → 1 (op 2) cannot be placed"}}}}};
  std::string x = RenderJUnit("t", r);
  EXPECT_NE(x.find("message=\"invalid on key &quot;k1&quot;: read → 1 (op 2) cannot be placed\""),
            std::string::npos)
      << x;
}

TEST(JUnitTest, MissingResultsIsAnError) {
  std::string x = RenderJUnit("t", json());
  EXPECT_EQ(Count(x, "<testcase "), 1u);
  EXPECT_EQ(Count(x, "<error "), 1u);
  EXPECT_NE(x.find("errors=\"1\""), std::string::npos);
}

TEST(JUnitTest, WriteJUnitWritesTheFileWithTheTestName) {
  auto dir = std::filesystem::temp_directory_path() / ("tm-junit-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  ASSERT_TRUE(store::WriteJsonFile((dir / "test.json").string(), json{{"name", "my<test>"}}).ok());
  ASSERT_TRUE(store::WriteJsonFile((dir / "results.json").string(), Results()).ok());
  ASSERT_TRUE(WriteJUnit(dir.string()).ok());
  std::ifstream f(dir / "junit.xml");
  std::string x((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  EXPECT_NE(x.find("<testsuite name=\"my&lt;test&gt;\""), std::string::npos) << x;
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace tidemark::reports
