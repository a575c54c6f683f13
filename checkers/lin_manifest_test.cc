// Every asserted verdict of ../shared/histories/MANIFEST.tsv, reproduced through the real
// importer (base/history/import.h) and PairOps.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "base/history/import.h"
#include "base/testing/corpora.h"
#include "checkers/lin_search.h"
#include "checkers/linearizability.h"
#include "checkers/model.h"

namespace tidemark::checkers {
namespace {

struct Row {
  std::string path, format, model, expected;
};

using tidemark::testing::GoldenHistories;
using tidemark::testing::SharedHistories;

std::vector<Row> ReadManifest(const std::filesystem::path& dir) {
  std::vector<Row> rows;
  std::ifstream in(dir / "MANIFEST.tsv");
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

Result<std::vector<history::Op>> Load(const std::filesystem::path& dir, const Row& row) {
  auto format = history::ParseFormat(row.format);
  if (!format) return Error{"unknown format " + row.format};
  auto h = history::ImportFile((dir / row.path).string(), *format);
  if (!h.ok()) return h.error();
  return history::PairOps(*h);
}

// Checks every row of dir/MANIFEST.tsv with an asserted verdict; returns how many it checked.
int CheckEveryAssertedVerdict(const std::filesystem::path& dir) {
  int checked = 0;
  for (const Row& row : ReadManifest(dir)) {
    if (row.expected == "any") continue;
    auto ops = Load(dir, row);
    EXPECT_TRUE(ops.ok()) << row.path << ": " << ops.error().message;
    if (!ops.ok()) continue;
    LinearizabilityOptions o;
    o.model = row.model;
    o.explain = ExplainMode::kNone;
    CheckResult r = CheckLinearizability(*ops, o);
    EXPECT_EQ(ToString(r.verdict), row.expected) << row.path << ": " << r.summary;
    ++checked;
  }
  return checked;
}

TEST(LinearizabilityManifestTest, ReproducesEveryGoldenVerdict) {
  int checked = CheckEveryAssertedVerdict(GoldenHistories());
  EXPECT_GE(checked, 14) << "golden histories checked under " << GoldenHistories();
}

TEST(LinearizabilityManifestTest, ReproducesEveryPublishedVerdict) {
  TIDEMARK_REQUIRE_CORPUS(SharedHistories() / "MANIFEST.tsv");
  EXPECT_GT(CheckEveryAssertedVerdict(SharedHistories()), 150);
}

// On every invalid golden history (cas-register and kv), --explain minimal's core is checked
// again from scratch: the core completed with its context crashed is invalid, and weakening any
// one core op (a read left out, an update crashed) makes it valid.
TEST(LinearizabilityManifestTest, GoldenMinimalCoresAreVerifiedAndMinimal) {
  int checked = 0;
  for (const Row& row : ReadManifest(GoldenHistories())) {
    if (row.expected != "invalid") continue;
    auto ops = Load(GoldenHistories(), row);
    ASSERT_TRUE(ops.ok()) << row.path << ": " << ops.error().message;
    LinearizabilityOptions o;
    o.model = row.model;
    o.explain = ExplainMode::kMinimal;
    o.explain_timeout_s = 120;  // generous: a loaded machine must not change the outcome
    o.timeout_s = 600;
    CheckResult r = CheckLinearizability(*ops, o);
    ASSERT_EQ(r.verdict, Verdict::kInvalid) << row.path;
    EXPECT_TRUE(r.details["core_minimal"].get<bool>()) << row.path << "\n" << r.explanation;
    std::vector<size_t> core, context;
    for (const auto& c : r.details["core"]) core.push_back(c["op"].get<size_t>());
    for (const auto& c : r.details["core_context"]) context.push_back(c.get<size_t>());
    // `weakened`: a core op taken as crashed (an update) or left out (a read); SIZE_MAX: none.
    auto history_of = [&](size_t weakened) {
      std::vector<history::Op> h;
      auto add = [&](size_t id, bool crashed) {
        history::Op op = (*ops)[id];
        op.id = static_cast<int64_t>(h.size());
        if (crashed) {
          op.status = history::EventType::kInfo;
          op.return_ns = history::kNever;
          op.complete_index = -1;
        }
        h.push_back(op);
      };
      for (size_t id : core) {
        bool read = (*ops)[id].f == "read" || (*ops)[id].f == "get";
        if (id == weakened && read) continue;
        add(id, id == weakened);
      }
      for (size_t id : context) add(id, true);
      return h;
    };
    LinearizabilityOptions plain = o;
    plain.explain = ExplainMode::kNone;
    EXPECT_EQ(CheckLinearizability(history_of(SIZE_MAX), plain).verdict, Verdict::kInvalid)
        << row.path << "\n"
        << r.explanation;
    for (size_t id : core) {
      EXPECT_EQ(CheckLinearizability(history_of(id), plain).verdict, Verdict::kValid)
          << row.path << ": core op " << id << " is not needed\n"
          << r.explanation;
    }
    ++checked;
  }
  EXPECT_GE(checked, 7) << "invalid golden histories under " << GoldenHistories();
}

TEST(LinearizabilityManifestTest, KvC50BadYieldsASmallVerifiedCore) {
  Row row{"porcupine-kv/c50-bad.txt", "jepsen-edn-lines", "kv-append", "invalid"};
  TIDEMARK_REQUIRE_CORPUS(SharedHistories() / row.path);
  auto ops = Load(SharedHistories(), row);
  ASSERT_TRUE(ops.ok()) << ops.error().message;
  LinearizabilityOptions o;
  o.model = "kv";
  o.explain = ExplainMode::kMinimal;
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

// The kv Dead pruning changes how much is searched, never the outcome: every key of every kv
// golden history gives the same SearchPartition outcome with pruning on and off. (The c50
// histories are left out: some of their keys take minutes without pruning. A key whose unpruned
// search does not finish in its budget is not compared; at least half must be.)
TEST(LinearizabilityManifestTest, KvPruningNeverChangesAKeysOutcome) {
  auto model = MakeModel("kv");
  int all = 0, keys = 0, violations = 0;
  for (const char* name : {"c01-ok", "c01-bad", "c10-ok", "c10-bad"}) {
    Row row{std::string("porcupine-kv/") + name + ".txt", "jepsen-edn-lines", "kv", ""};
    auto ops = Load(GoldenHistories(), row);
    ASSERT_TRUE(ops.ok()) << ops.error().message;
    std::map<std::string, std::vector<const history::Op*>> by_key;
    for (const auto& op : *ops) {
      if (op.status != history::EventType::kFail) by_key[op.key.value_or("")].push_back(&op);
    }
    for (const auto& [key, group] : by_key) {
      std::vector<ModelOp> mops;
      std::vector<char> keep;
      ASSERT_TRUE(model->Prepare(group, &mops, &keep).ok());
      std::vector<PartitionOp> part;
      for (size_t i = 0; i < group.size(); ++i) {
        if (!keep[i]) continue;
        bool ok = mops[i].ok;
        part.push_back(PartitionOp{group[i]->call_ns, ok ? group[i]->return_ns : history::kNever,
                                   std::move(mops[i])});
      }
      SearchBudget pruned, plain;
      plain.prune_dead = false;
      plain.deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
      SearchOutcome a = SearchPartition(*model, part, pruned).outcome;
      SearchOutcome b = SearchPartition(*model, part, plain).outcome;
      ++all;
      if (b == SearchOutcome::kTimeout) continue;
      EXPECT_EQ(ToString(a), ToString(b)) << name << " key " << key;
      ++keys;
      violations += a == SearchOutcome::kViolation;
    }
  }
  ASSERT_GT(all, 0) << "no kv key checked";
  EXPECT_GE(keys, all / 2) << all << " keys";
  EXPECT_GE(violations, 1) << keys << " keys compared";
}

}  // namespace
}  // namespace tidemark::checkers
