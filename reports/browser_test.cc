// Opens generated reports in headless Chromium (docs/report.md): a valid run, an invalid log run,
// an invalid register run, and generated 10,000- and 100,000-op histories. For each it checks
// that the page's script ran without error (<body data-status="ok">, the error banner still
// hidden), that the expected sections, anomaly links and drawings are in the rendered DOM, and
// that the HTML names no http(s) URL in a src or href. Screenshots and the reports are kept in
// TIDEMARK_ARTIFACT_DIR for a human to look at. Sizes and times are printed (not asserted).
//
// Skips (GTEST_SKIP with the reason) when /usr/bin/chromium is absent; install it with
// `apt-get install -y chromium`. CTest label: e2e.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>

#include <gtest/gtest.h>

#include "base/history/jsonl.h"
#include "checkers/linearizability.h"
#include "checkers/log/log_checker.h"
#include "reports/report.h"
#include "reports/test_util.h"
#include "runstore/store.h"

namespace tidemark::reports {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr const char* kChromium = "/usr/bin/chromium";

bool HaveChromium() { return ::access(kChromium, X_OK) == 0; }

std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string ReadFile(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

struct ChromeRun {
  int exit_code = -1;
  std::string out;
  double seconds = 0;
};

// Runs headless Chromium on a file:// URL with the flags of docs/platform.md. `timeout` ends it
// (and only it) if it hangs; its helper processes exit with it.
ChromeRun Chromium(const fs::path& user_data_dir, const std::string& mode_flag,
                   const fs::path& html, const std::string& fragment = "") {
  std::string cmd = "timeout -k 5 300 " + std::string(kChromium) +
                    " --headless --no-sandbox --disable-gpu --disable-dev-shm-usage"
                    " --disable-background-networking --hide-scrollbars --window-size=1400,2800"
                    " --user-data-dir=" +
                    Quote(user_data_dir.string()) + " " + mode_flag + " " +
                    Quote("file://" + fs::absolute(html).string() + fragment) + " 2>/dev/null";
  ChromeRun r;
  auto start = Clock::now();
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  int status = ::pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return r;
}

json ResultsFor(const std::vector<checkers::CheckResult>& results) {
  json out = {{"checkers", json::array()}};
  checkers::Verdict v = checkers::Verdict::kValid;
  for (const auto& r : results) {
    out["checkers"].push_back(checkers::ToJson(r));
    v = checkers::Worst(v, r.verdict);
  }
  out["verdict"] = checkers::ToString(v);
  return out;
}

class ReportBrowserTest : public ::testing::Test {
 protected:
  void SetUp() override {
    name_ = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    dir_ = fs::path(TIDEMARK_ARTIFACT_DIR) / "runs" / name_;
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }

  void WriteTest(const std::string& workload, const std::string& nemesis, int64_t seed) {
    json test = {
        {"name", "browser-" + name_},
        {"seed", seed},
        {"repeat", "tidemark run --workload " + workload + " --seed " + std::to_string(seed)},
        {"target", {{"name", "synthetic"}}},
        {"workload", {{"name", workload}, {"concurrency", 10}}},
        {"nemesis", {{"faults", nemesis}}}};
    ASSERT_TRUE(store::WriteJsonFile((dir_ / "test.json").string(), test).ok());
  }

  // Copies an example history and checks it with the checker libraries into results.json.
  void ExampleRun(const std::string& example, bool log) {
    fs::copy_file(fs::path(TIDEMARK_SOURCE_DIR) / "docs/examples" / example, dir_ / "history.jsonl",
                  fs::copy_options::overwrite_existing);
    auto h = history::ReadJsonlFile((dir_ / "history.jsonl").string());
    ASSERT_TRUE(h.ok()) << h.error().message;
    auto ops = history::PairOps(*h);
    ASSERT_TRUE(ops.ok()) << ops.error().message;
    std::vector<checkers::CheckResult> results;
    if (log) {
      results.push_back(checkers::CheckLogPrefix(*ops));
    } else {
      checkers::LinearizabilityOptions lo;
      lo.model = "cas-register";
      lo.timeout_s = 30;
      results.push_back(checkers::CheckLinearizability(*ops, lo));
    }
    ASSERT_TRUE(store::WriteJsonFile((dir_ / "results.json").string(), ResultsFor(results)).ok());
    WriteTest(log ? "log" : "register", "partition", 1);
  }

  // A register history of n_ops ops by 10 workers over 10 keys, with failed CASes, timed-out ops
  // (the process is retired) and a partition every 2 s of history time. The results name two
  // ops in a synthetic anomaly so the links can be checked at scale.
  void GeneratedRun(size_t n_ops, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::ofstream f(dir_ / "history.jsonl");
    const int kWorkers = 10;
    std::vector<int64_t> proc(kWorkers), free_at(kWorkers, 0);
    for (int w = 0; w < kWorkers; ++w) proc[w] = w;
    int64_t index = 0, now = 1'000'000, next_nemesis = 2'000'000'000;
    bool partitioned = false;
    std::lognormal_distribution<double> latency(14.0, 0.8);  // ns, median ~1.2 ms
    std::uniform_real_distribution<double> u(0, 1);
    struct Pending {
      int64_t done;
      int w;
      json inv;
      std::string f, key;
      int outcome;
    };
    std::vector<Pending> pending;
    auto emit = [&](json e) {
      e["index"] = index++;
      f << e.dump() << "\n";
    };
    // The first leader the runner's watcher saw (a tick on the timeline, not a fault band).
    emit(json{{"time", now},
              {"process", "nemesis"},
              {"type", "info"},
              {"f", "leader"},
              {"value", {{"node", "n1"}, {"generation", 1}}}});
    size_t invoked = 0;
    while (invoked < n_ops || !pending.empty()) {
      // the next thing to happen: a completion, a nemesis switch, or an invoke
      std::sort(pending.begin(), pending.end(),
                [](const Pending& a, const Pending& b) { return a.done < b.done; });
      now += static_cast<int64_t>(u(rng) * 60'000);
      while (!pending.empty() && pending.front().done <= now) {
        Pending p = pending.front();
        pending.erase(pending.begin());
        json e = {{"time", p.done},
                  {"process", proc[p.w]},
                  {"f", p.f},
                  {"key", p.key},
                  {"node", "n" + std::to_string(1 + p.w % 3)}};
        if (p.outcome == 0) {
          e["type"] = "ok";
          e["value"] = p.f == "read" ? json(static_cast<int>(u(rng) * 5)) : p.inv;
        } else if (p.outcome == 1) {
          e["type"] = "fail";
          e["error"] = "precondition failed";
        } else {
          e["type"] = "info";
          e["error"] = "timeout";
          proc[p.w] += kWorkers;
        }
        emit(e);
        free_at[p.w] = p.done;
      }
      if (now >= next_nemesis) {
        emit(partitioned ? json{{"time", now},
                                {"process", "nemesis"},
                                {"type", "info"},
                                {"f", "stop-partition"},
                                {"value", nullptr}}
                         : json{{"time", now},
                                {"process", "nemesis"},
                                {"type", "info"},
                                {"f", "start-partition"},
                                {"value", {{"grudge", {{"n1", {"n2", "n3"}}}}}}});
        partitioned = !partitioned;
        // The runner's watcher sees the leader go and come back (drawn as ticks).
        emit(json{{"time", now},
                  {"process", "nemesis"},
                  {"type", "info"},
                  {"f", "leader"},
                  {"value", partitioned ? json{{"node", nullptr}}
                                        : json{{"node", "n2"},
                                               {"generation", next_nemesis / 1'000'000'000}}}});
        next_nemesis += 2'000'000'000;
      }
      if (invoked >= n_ops) {
        if (!pending.empty()) now = std::max(now, pending.front().done);
        continue;
      }
      int w = static_cast<int>(u(rng) * kWorkers);
      bool busy = false;
      for (const auto& p : pending) busy |= p.w == w;
      if (busy) continue;
      double r = u(rng);
      std::string fname = r < 0.5 ? "read" : r < 0.8 ? "write" : "cas";
      std::string key = "k" + std::to_string(static_cast<int>(u(rng) * 10));
      json inv = fname == "read" ? json(nullptr)
                 : fname == "write"
                     ? json(static_cast<int>(u(rng) * 5))
                     : json::array({static_cast<int>(u(rng) * 5), static_cast<int>(u(rng) * 5)});
      int outcome = fname == "cas" && u(rng) < 0.3          ? 1
                    : u(rng) < (partitioned ? 0.02 : 0.002) ? 2
                                                            : 0;
      double lat = latency(rng) * (partitioned ? 3 : 1);
      emit(json{{"time", now},
                {"process", proc[w]},
                {"type", "invoke"},
                {"f", fname},
                {"key", key},
                {"value", inv},
                {"node", "n" + std::to_string(1 + w % 3)}});
      pending.push_back({now + static_cast<int64_t>(lat) + 1, w, inv, fname, key, outcome});
      ++invoked;
    }
    f.close();
    int64_t a = static_cast<int64_t>(n_ops / 2), b = a + 1;
    json results = {
        {"verdict", "invalid"},
        {"checkers",
         {{{"checker", "synthetic"},
           {"verdict", "invalid"},
           {"summary", "a synthetic anomaly naming two ops, to test links at scale"},
           {"explanation", "synthetic"},
           {"details",
            {{"anomalies",
              {{"stale-read",
                {{"count", 1},
                 {"examples",
                  {{{"explanation", "synthetic example naming ops " + std::to_string(a) + " and " +
                                        std::to_string(b)},
                    {"ops", {a, b}}}}}}}}}}}}}}};
    // A fault summary with one window, for the faults table's "show" button in the self-test.
    results["faults"] = {{"leader_changes", 0},
                         {"windows",
                          {{{"fault", "partition"},
                            {"what", "one n1"},
                            {"start_s", 0.5},
                            {"stop_s", 1.0},
                            {"stopped", true},
                            {"ok", 1},
                            {"fail", 0},
                            {"info", 0},
                            {"recovery_s", 0.01},
                            {"leader_s", 0.0}}}}};
    ASSERT_TRUE(store::WriteJsonFile((dir_ / "results.json").string(), results).ok());
    WriteTest("register", "partition", static_cast<int64_t>(seed));
  }

  // A 60-s register run with a fault every 3 s, the kinds of the default mix in turn (isolate the
  // leader, kill, pause, a random partition, each held 1.5 s), a leader change after each, and
  // ops by 5 workers every 50 ms: the densest labelling the timeline sees at full zoom.
  void SixtySecondsOfFaults() {
    std::vector<json> events;
    auto emit = [&](int64_t t, json e) {
      e["time"] = t;
      events.push_back(std::move(e));
    };
    auto nem = [&](int64_t t, const std::string& fn, json value) {
      emit(t, {{"process", "nemesis"}, {"type", "info"}, {"f", fn}, {"value", value}});
    };
    const int64_t kSec = 1'000'000'000;
    nem(0, "leader", {{"node", "n1"}, {"generation", 1}});
    for (int64_t k = 1; k * 3 < 60; ++k) {
      const int64_t t = k * 3 * kSec;
      const std::string node = "n" + std::to_string(1 + k % 3);
      switch (k % 4) {
        case 0:
          nem(t, "start-partition", {{"grudge", {{node, {"n2", "n3"}}, {"n2", {node}}}}});
          nem(t + 3 * kSec / 2, "stop-partition", nullptr);
          break;
        case 1:
          nem(t, "kill", json::array({node}));
          nem(t + 3 * kSec / 2, "start", json::array({node}));
          break;
        case 2:
          nem(t, "pause", json::array({node}));
          nem(t + 3 * kSec / 2, "resume", json::array({node}));
          break;
        default:
          nem(t, "start-partition", {{"grudge", {{"n1", {"n2"}}, {"n2", {"n1"}}}}});
          nem(t + 3 * kSec / 2, "stop-partition", nullptr);
      }
      nem(t + kSec / 2, "leader", {{"node", nullptr}});
      nem(t + kSec, "leader", {{"node", node}, {"generation", k + 1}});
    }
    for (int64_t t = kSec / 10; t < 60 * kSec; t += kSec / 20) {
      const int w = static_cast<int>((t / (kSec / 20)) % 5);
      emit(t, {{"process", w}, {"type", "invoke"}, {"f", "write"}, {"key", "k"}, {"value", 1}});
      emit(t + kSec / 100,
           {{"process", w}, {"type", "ok"}, {"f", "write"}, {"key", "k"}, {"value", 1}});
    }
    std::stable_sort(events.begin(), events.end(), [](const json& a, const json& b) {
      return a["time"].get<int64_t>() < b["time"].get<int64_t>();
    });
    std::ofstream f(dir_ / "history.jsonl");
    int64_t index = 0;
    for (json& e : events) {
      e["index"] = index++;
      f << e.dump() << "\n";
    }
    f.close();
    json results = {{"verdict", "valid"}, {"checkers", json::array()}};
    ASSERT_TRUE(store::WriteJsonFile((dir_ / "results.json").string(), results).ok());
    WriteTest("register", "all", 60);
  }

  // Writes the report, checks the HTML, opens it in Chromium, checks the DOM, takes a
  // screenshot. Returns the dumped DOM ("" when skipped).
  std::string RenderAndOpen(const std::vector<std::string>& must_contain) {
    auto start = Clock::now();
    Status s = WriteReport(dir_.string());
    double write_s = std::chrono::duration<double>(Clock::now() - start).count();
    EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
    fs::path html = dir_ / "report.html";
    std::string page = ReadFile(html);
    EXPECT_FALSE(testing::NamesRemoteUrl(page)) << "the report names a remote URL";
    std::cout << "[report] " << name_ << ": WriteReport " << write_s << " s, report.html "
              << fs::file_size(html) << " bytes, history.jsonl "
              << fs::file_size(dir_ / "history.jsonl") << " bytes\n";
    if (!HaveChromium()) return "";
    ChromeRun dom = Chromium(dir_ / "chrome-profile", "--dump-dom", html);
    EXPECT_EQ(dom.exit_code, 0) << "chromium --dump-dom failed";
    std::ofstream(dir_ / "dom.html") << dom.out;
    std::string render_ms = "?";
    if (size_t p = dom.out.find("data-render-ms=\""); p != std::string::npos) {
      p += 16;
      render_ms = dom.out.substr(p, dom.out.find('"', p) - p);
    }
    std::cout << "[report] " << name_ << ": chromium --dump-dom " << dom.seconds
              << " s wall (browser start included), page script " << render_ms << " ms\n";
    EXPECT_NE(dom.out.find("data-status=\"ok\""), std::string::npos)
        << "the page's script did not finish; see " << (dir_ / "dom.html");
    EXPECT_EQ(dom.out.find("data-status=\"error\""), std::string::npos);
    EXPECT_NE(dom.out.find("<div id=\"error-banner\" hidden=\"\">"), std::string::npos)
        << "the error banner is visible";
    for (const char* id : {"id=\"summary\"", "id=\"checkers\"", "id=\"timeline\"", "id=\"latency\"",
                           "id=\"throughput\"", "id=\"ops-section\"",
                           "id=\"series-legend\"><label>", "id=\"throughput-legend\"><label>"}) {
      EXPECT_NE(dom.out.find(id), std::string::npos) << "missing in the DOM: " << id;
    }
    // Op kinds are never drawn in an outcome's colour (red, green or orange, old or new).
    for (const char* legend : {"id=\"series-legend\"", "id=\"throughput-legend\""}) {
      const size_t at = dom.out.find(legend);
      if (at == std::string::npos) continue;
      const std::string swatches = dom.out.substr(at, dom.out.find("</div>", at) - at);
      for (const char* outcome : {"rgb(46, 133, 64)", "rgb(198, 40, 40)", "rgb(224, 138, 0)",
                                  "rgb(214, 39, 40)", "rgb(44, 160, 44)", "rgb(255, 127, 14)"})
        EXPECT_EQ(swatches.find(outcome), std::string::npos)
            << legend << " draws an op kind in the outcome colour " << outcome;
    }
    // The virtual ops table rendered rows.
    EXPECT_NE(dom.out.find("class=\"row st-"), std::string::npos);
    for (const auto& needle : must_contain)
      EXPECT_NE(dom.out.find(needle), std::string::npos) << "missing in the DOM: " << needle;
    ChromeRun shot = Chromium(dir_ / "chrome-profile",
                              "--screenshot=" + Quote((dir_ / "screenshot.png").string()), html);
    EXPECT_EQ(shot.exit_code, 0);
    EXPECT_TRUE(fs::exists(dir_ / "screenshot.png"));
    std::cout << "[report] " << name_ << ": screenshot " << (dir_ / "screenshot.png") << "\n";
    return dom.out;
  }

  // Opens report.html#selftest (zoom, pan, op link click, hover, a fault window's "show") and
  // expects the page's own self-test to pass.
  ChromeRun ExpectSelfTestPasses() {
    ChromeRun self =
        Chromium(dir_ / "chrome-profile", "--dump-dom", dir_ / "report.html", "#selftest");
    EXPECT_NE(self.out.find("data-selftest=\"ok\""), std::string::npos)
        << self.out.substr(0, self.out.find("<header"));
    return self;
  }

  // Opens report.html#op-ID and expects that op to be the selected one.
  void ExpectOpenedAtOp(int64_t id) {
    const std::string op = std::to_string(id);
    ChromeRun focused =
        Chromium(dir_ / "chrome-profile", "--dump-dom", dir_ / "report.html", "#op-" + op);
    EXPECT_NE(focused.out.find("data-status=\"ok\""), std::string::npos);
    EXPECT_NE(focused.out.find("<pre id=\"selected\" class=\"\">op " + op + " · process"),
              std::string::npos);
  }

  void SkipWithoutChromium() {
    if (!HaveChromium())
      GTEST_SKIP() << kChromium << " is absent (apt-get install -y chromium); the reports were "
                   << "generated and checked statically only";
  }

  std::string name_;
  fs::path dir_;
};

TEST_F(ReportBrowserTest, ValidRegisterRun) {
  ExampleRun("register-valid.jsonl", false);
  std::string dom = RenderAndOpen({"id=\"verdict\">valid<"});
  SkipWithoutChromium();
}

TEST_F(ReportBrowserTest, InvalidLogRunShowsAnomalyLinksAndDrawing) {
  ExampleRun("log-lost-write.jsonl", true);
  std::string dom =
      RenderAndOpen({"id=\"verdict\">invalid<", "class=\"oplink\"", "href=\"#op-1\"",
                     "<tr id=\"op-1\"", "class=\"log-drawing\"", "<svg", "@2 (hwm 3)"});
  SkipWithoutChromium();
  ExpectSelfTestPasses();
  // The log drawing shows what the final read says about offset 2.
  EXPECT_NE(dom.find("@2 = nothing"), std::string::npos);
}

TEST_F(ReportBrowserTest, InvalidRegisterRunShowsTheLinearizationDrawing) {
  ExampleRun("register-stale-read.jsonl", false);
  std::string dom = RenderAndOpen(
      {"id=\"verdict\">invalid<", "class=\"lin-drawing\"", "href=\"#op-2\"", "cannot be placed"});
  SkipWithoutChromium();
  EXPECT_NE(dom.find("✗ cannot be placed: a read here would return 2"), std::string::npos);
}

TEST_F(ReportBrowserTest, Generated10kOps) {
  GeneratedRun(10'000, 10);
  RenderAndOpen({"data-ops=\"10000\"", "href=\"#op-5000\"", "class=\"fault-show\""});
  SkipWithoutChromium();
  // Zoom, pan, link click, hover and the faults table's "show" button.
  ExpectSelfTestPasses();
}

// Issue: fault and leader labels used to overlap each other and the op bars at full zoom.
TEST_F(ReportBrowserTest, TimelineLabelsNeverOverlapOnASixtySecondRunWithAFaultEvery3s) {
  SixtySecondsOfFaults();
  // The visible window in seconds with the precision a 60-s span needs, not six decimals.
  RenderAndOpen(
      {"id=\"verdict\">valid<", "id=\"view-range\" class=\"dim\">showing 0.00 – 60.56 s"});
  SkipWithoutChromium();
  ChromeRun self = ExpectSelfTestPasses();
  // The lane did label most of them (a test that drew none would pass the overlap check).
  size_t at = self.out.find("data-labels=\"");
  ASSERT_NE(at, std::string::npos);
  int drawn = std::atoi(self.out.c_str() + at + 13);
  EXPECT_GE(drawn, 20) << self.out.substr(at, 40);
}

TEST_F(ReportBrowserTest, Generated100kOps) {
  GeneratedRun(100'000, 100);
  RenderAndOpen({"data-ops=\"100000\"", "href=\"#op-50000\"", "<tr id=\"op-50001\""});
  SkipWithoutChromium();
  // Zoom, pan, link click and hover still work at this size.
  ExpectSelfTestPasses();
  // Opening report.html#op-50000 selects that op and zooms the timeline to it.
  ExpectOpenedAtOp(50000);
  ChromeRun shot = Chromium(dir_ / "chrome-profile",
                            "--screenshot=" + Quote((dir_ / "screenshot-op-50000.png").string()),
                            dir_ / "report.html", "#op-50000");
  EXPECT_EQ(shot.exit_code, 0);
}

// A long nightly: more ops than kMaxFullReportOps, so report.html holds an overview (every op
// the results name, the ops around them, a sample elsewhere, exact throughput) and stays small.
TEST_F(ReportBrowserTest, Generated400kOpsIsAnOverviewThatStaysSmall) {
  GeneratedRun(400'000, 400);
  std::string dom = RenderAndOpen({"id=\"overview-note\"", "href=\"#op-200000\"",
                                   "<tr id=\"op-200001\"", "held here (400000 in the run)"});
  const auto bytes = fs::file_size(dir_ / "report.html");
  EXPECT_LT(bytes, size_t{20} << 20) << "an overview page is meant to stay under 20 MB";
  SkipWithoutChromium();
  ExpectSelfTestPasses();
  // The op the results name is held and selected by its op id, not its position on the page.
  ExpectOpenedAtOp(200000);
  // Every op of a window, on request.
  auto window = WriteWindowReport(dir_.string(), 10, 11);
  ASSERT_TRUE(window.ok()) << window.error().message;
  ChromeRun win = Chromium(dir_ / "chrome-profile", "--dump-dom", *window);
  EXPECT_NE(win.out.find("data-status=\"ok\""), std::string::npos);
  EXPECT_NE(win.out.find("This page holds every op of 10.000000–11.000000 s"), std::string::npos);
}

}  // namespace
}  // namespace tidemark::reports
