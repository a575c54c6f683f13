// Every asserted verdict of ../shared/histories/MANIFEST.tsv, reproduced through the real
// importer (harness/history/import.h) and PairOps.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "checkers/linearizability.h"
#include "harness/history/import.h"

namespace tidemark::checkers {
namespace {

struct Row {
  std::string path, format, model, expected;
};

std::string HistoriesDir() { return std::string(TIDEMARK_SHARED_DIR) + "/histories"; }

std::vector<Row> ReadManifest() {
  std::vector<Row> rows;
  std::ifstream in(HistoriesDir() + "/MANIFEST.tsv");
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::istringstream s(line);
    Row r;
    std::getline(s, r.path, '\t');
    std::getline(s, r.format, '\t');
    std::getline(s, r.model, '\t');
    std::getline(s, r.expected, '\t');
    if (!r.path.empty()) rows.push_back(r);
  }
  return rows;
}

Result<std::vector<history::Op>> Load(const Row& row) {
  auto format = history::ParseFormat(row.format);
  if (!format) return Error{"unknown format " + row.format};
  auto h = history::ImportFile(HistoriesDir() + "/" + row.path, *format);
  if (!h.ok()) return h.error();
  return history::PairOps(*h);
}

TEST(LinearizabilityManifestTest, ReproducesEveryAssertedVerdict) {
  if (!std::filesystem::exists(HistoriesDir() + "/MANIFEST.tsv")) {
    GTEST_SKIP() << "no " << HistoriesDir() << "/MANIFEST.tsv (shared/ is not beside the repo)";
  }
  std::vector<Row> rows = ReadManifest();
  ASSERT_GT(rows.size(), 150u);
  int checked = 0;
  for (const Row& row : rows) {
    if (row.expected == "any") continue;
    auto ops = Load(row);
    ASSERT_TRUE(ops.ok()) << row.path << ": " << ops.error().message;
    LinearizabilityOptions o;
    o.model = row.model;
    o.explain = false;
    CheckResult r = CheckLinearizability(*ops, o);
    EXPECT_EQ(ToString(r.verdict), row.expected) << row.path << ": " << r.summary;
    ++checked;
  }
  EXPECT_GT(checked, 150);
}

TEST(LinearizabilityManifestTest, KvC50BadYieldsASmallVerifiedCore) {
  Row row{"porcupine-kv/c50-bad.txt", "jepsen-edn-lines", "kv-append", "invalid"};
  if (!std::filesystem::exists(HistoriesDir() + "/" + row.path)) {
    GTEST_SKIP() << "no " << row.path << " under " << HistoriesDir();
  }
  auto ops = Load(row);
  ASSERT_TRUE(ops.ok()) << ops.error().message;
  LinearizabilityOptions o;
  o.model = "kv";
  o.explain_timeout_s = 120;  // generous: a loaded machine must not change the outcome
  o.timeout_s = 600;
  CheckResult r = CheckLinearizability(*ops, o);
  ASSERT_EQ(r.verdict, Verdict::kInvalid);
  EXPECT_TRUE(r.details["core_verified"].get<bool>()) << r.explanation;
  EXPECT_GE(r.details["core"].size(), 1u);
  EXPECT_LE(r.details["core"].size(), 30u) << r.explanation;
  EXPECT_FALSE(r.details["blocked"].empty()) << r.explanation;
  // The core as completed plus its context as crashed must be invalid again from scratch.
  std::vector<history::Op> core;
  auto add = [&](size_t id, bool crashed) {
    history::Op op = (*ops)[id];
    op.id = static_cast<int64_t>(core.size());
    if (crashed) {
      op.status = history::EventType::kInfo;
      op.return_ns = history::kNever;
    }
    core.push_back(op);
  };
  for (const auto& c : r.details["core"]) add(c["op"].get<size_t>(), false);
  for (const auto& c : r.details["core_context"]) add(c.get<size_t>(), true);
  EXPECT_EQ(CheckLinearizability(core, o).verdict, Verdict::kInvalid) << r.explanation;
}

}  // namespace
}  // namespace tidemark::checkers
