// Tests of the netns backend with real namespaces (label `netns`; they need root and skip with
// the reason otherwise). Every test tears down what it created and checks that nothing is left.
#include "nemesis/netns.h"

#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "nemesis/clean.h"
#include "nemesis/sys.h"
#include "nemesis/test_util.h"

namespace tidemark::nemesis {
namespace {

namespace fs = std::filesystem;
using testing::ConnectTo;
using testing::RecvFor;
using testing::SendAll;

#define SKIP_UNLESS_NETNS()                         \
  do {                                              \
    std::string why;                                \
    if (!NetnsAvailable(&why)) GTEST_SKIP() << why; \
  } while (0)

std::string Out(const std::vector<std::string>& argv) {
  auto r = RunCommand(argv);
  return r.ok() ? r->out : "";
}

// Nothing named after `id` is left: namespaces, links.
void ExpectNothingLeft(const std::string& id) {
  EXPECT_EQ(Out({"ip", "netns", "list"}).find("tm" + id), std::string::npos)
      << Out({"ip", "netns", "list"});
  EXPECT_EQ(Out({"ip", "-br", "link"}).find("tm" + id), std::string::npos)
      << Out({"ip", "-br", "link"});
}

// A listening TCP socket on host:port, or -1. For forked children inside a namespace.
int ListenOn(const std::string& host, int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, host.c_str(), &a.sin_addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(fd, 16) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// Runs an echo server inside namespace `node`'s netns (a forked child that setns()es, so the
// test process itself stays in the root namespace). Returns the child's pid.
pid_t EchoInNamespace(NetBackend& net, int node, const std::string& host, int port) {
  auto in_child = net.InChild()(node);
  pid_t pid = fork();
  if (pid == 0) {
    if (!in_child()) _exit(3);
    // Not a gtest thread: a tiny blocking echo server on host:port.
    int fd = ListenOn(host, port);
    if (fd < 0) _exit(4);
    while (true) {
      int c = accept(fd, nullptr, nullptr);
      if (c < 0) continue;
      if (fork() == 0) {
        char buf[1024];
        ssize_t n;
        while ((n = read(c, buf, sizeof buf)) > 0)
          if (write(c, buf, static_cast<size_t>(n)) != n) break;
        _exit(0);
      }
      close(c);
    }
  }
  setpgid(pid, pid);
  return pid;
}

// Connects from inside namespace `from` to host:port and echoes one byte; returns what the
// forked client saw: 0 = echoed, 1 = connect failed/timed out, 2 = connected but no echo.
int ProbeFrom(NetBackend& net, int from, const std::string& host, int port, int timeout_ms) {
  auto in_child = net.InChild()(from);
  pid_t pid = fork();
  if (pid == 0) {
    if (!in_child()) _exit(9);
    int fd = ConnectTo(host, port, timeout_ms);
    if (fd < 0) _exit(1);
    if (!SendAll(fd, "x")) _exit(2);
    _exit(RecvFor(fd, 1, timeout_ms) == "x" ? 0 : 2);
  }
  int st = 0;
  waitpid(pid, &st, 0);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 99;
}

struct Servers {
  std::vector<pid_t> pids;
  ~Servers() {
    for (pid_t p : pids) {
      killpg(p, SIGKILL);
      waitpid(p, nullptr, 0);
    }
  }
};

TEST(NetnsTest, CutBlocksHealRestoresTeardownRemovesEverything) {
  SKIP_UNLESS_NETNS();
  std::string store =
      (fs::temp_directory_path() / ("tm-netns-" + std::to_string(getpid()))).string();
  fs::create_directories(store);
  CleanupRegistry reg(store + "/cleanup.json");
  NetOptions o;
  o.run_id = "netns-test-" + std::to_string(getpid());
  o.nodes = 3;
  o.registry = &reg;
  std::string id = NetnsShortId(o.run_id);
  auto net = MakeNetnsBackend(o);
  auto host = net->HostOf();
  ASSERT_TRUE(host);
  NetCluster c;
  c.peer_port = "peer";
  const int port = 7000;
  for (int i = 0; i < 3; ++i) {
    targets::NodeAddress a;
    a.name = "n" + std::to_string(i + 1);
    a.index = i + 1;
    a.host = host(i);
    a.ports = {{"peer", port}};
    c.nodes.push_back(a);
  }
  Status p = net->Prepare(c);
  ASSERT_TRUE(p.ok()) << p.error().message;
  auto snap = reg.Snapshot();
  EXPECT_EQ(snap["namespaces"].size(), 3u) << snap.dump();
  EXPECT_NE(Out({"ip", "netns", "list"}).find("tm" + id + "-n1"), std::string::npos);
  {
    Servers servers;
    for (int i = 0; i < 3; ++i) servers.pids.push_back(EchoInNamespace(*net, i, host(i), port));
    // Wait until n2's server answers from the root namespace (through the bridge).
    int fd = -1;
    for (int i = 0; i < 200 && fd < 0; ++i) {
      fd = ConnectTo(host(1), port, 200);
      if (fd < 0) usleep(20000);
    }
    ASSERT_GE(fd, 0) << "controller cannot reach n2 at " << host(1) << " via the bridge";
    ASSERT_TRUE(SendAll(fd, "c"));
    EXPECT_EQ(RecvFor(fd, 1, 5000), "c");
    close(fd);

    EXPECT_EQ(ProbeFrom(*net, 0, host(1), port, 3000), 0) << "n1 -> n2 before any cut";

    // One-way cut n1 -> n2: n1 cannot open connections to n2, n2 can to n1.
    ASSERT_TRUE(net->Apply({{1, {0}}}).ok());
    EXPECT_NE(ProbeFrom(*net, 0, host(1), port, 500), 0) << "n1 -> n2 crossed the cut";
    EXPECT_EQ(ProbeFrom(*net, 1, host(0), port, 3000), 0) << "n2 -> n1 must still work";
    EXPECT_EQ(ProbeFrom(*net, 0, host(2), port, 3000), 0) << "n1 -> n3 must still work";
    // The controller is never cut off.
    int ctl = ConnectTo(host(1), port, 3000);
    EXPECT_GE(ctl, 0);
    if (ctl >= 0) close(ctl);

    // Symmetric isolation of n3.
    ASSERT_TRUE(net->Apply(IsolateNode(3, 2)).ok());
    EXPECT_NE(ProbeFrom(*net, 2, host(0), port, 500), 0);
    EXPECT_NE(ProbeFrom(*net, 0, host(2), port, 500), 0);
    EXPECT_EQ(ProbeFrom(*net, 0, host(1), port, 3000), 0) << "Apply must replace the old grudge";

    ASSERT_TRUE(net->Heal().ok());
    EXPECT_EQ(ProbeFrom(*net, 2, host(0), port, 3000), 0) << "after heal";
    EXPECT_EQ(ProbeFrom(*net, 0, host(2), port, 3000), 0) << "after heal";
  }
  net->Teardown();
  net->Teardown();  // idempotent
  ExpectNothingLeft(id);
  snap = reg.Snapshot();
  EXPECT_TRUE(snap["namespaces"].empty()) << snap.dump();
  EXPECT_TRUE(snap["links"].empty()) << snap.dump();
  fs::remove_all(store);
}

// A connection made before the first cut must be cut too. Conntrack that starts tracking only
// when the first drop rule arrives picks such a connection up mid-stream, with its direction
// taken from whichever packet it sees first; here the first packet after the cut is the
// server's push, so the client's later bytes would count as "replies" and cross the cut.
TEST(NetnsTest, CutAlsoBlocksAConnectionMadeBeforeIt) {
  SKIP_UNLESS_NETNS();
  NetOptions o;
  o.run_id = "netns-old-conn-" + std::to_string(getpid());
  o.nodes = 2;
  std::string id = NetnsShortId(o.run_id);
  auto net = MakeNetnsBackend(o);
  auto host = net->HostOf();
  NetCluster c;
  for (int i = 0; i < 2; ++i) {
    targets::NodeAddress a;
    a.name = "n" + std::to_string(i + 1);
    a.host = host(i);
    c.nodes.push_back(a);
  }
  ASSERT_TRUE(net->Prepare(c).ok());
  const int port = 7100;
  // Server in n2: echo one byte, push "p" 400 ms later, then exit 0 iff an "x" arrives.
  auto in_n2 = net->InChild()(1);
  pid_t server = fork();
  if (server == 0) {
    if (!in_n2()) _exit(9);
    int fd = ListenOn(host(1), port);
    if (fd < 0) _exit(8);
    int conn = accept(fd, nullptr, nullptr);
    if (RecvFor(conn, 1, 5000) != "a" || !SendAll(conn, "a")) _exit(7);
    usleep(400 * 1000);
    if (!SendAll(conn, "p")) _exit(6);
    _exit(RecvFor(conn, 1, 2000) == "x" ? 0 : 1);
  }
  int ready[2], go[2];
  ASSERT_EQ(pipe(ready), 0);
  ASSERT_EQ(pipe(go), 0);
  auto in_n1 = net->InChild()(0);
  pid_t client = fork();
  if (client == 0) {
    if (!in_n1()) _exit(9);
    int fd = -1;
    for (int i = 0; i < 100 && fd < 0; ++i) {
      fd = ConnectTo(host(1), port, 200);
      if (fd < 0) usleep(20000);
    }
    if (fd < 0 || !SendAll(fd, "a") || RecvFor(fd, 1, 5000) != "a") _exit(8);
    char b = 1;
    if (write(ready[1], &b, 1) != 1 || read(go[0], &b, 1) != 1) _exit(7);
    usleep(700 * 1000);  // after the server's push
    (void)SendAll(fd, "x");
    usleep(2500 * 1000);
    _exit(0);
  }
  char b = 0;
  ASSERT_EQ(read(ready[0], &b, 1), 1) << "the client never connected";
  ASSERT_TRUE(net->Apply(IsolateNode(2, 1)).ok());
  ASSERT_EQ(write(go[1], &b, 1), 1);
  int st = 0;
  waitpid(server, &st, 0);
  waitpid(client, nullptr, 0);
  for (int fd : {ready[0], ready[1], go[0], go[1]}) close(fd);
  ASSERT_TRUE(WIFEXITED(st)) << st;
  EXPECT_EQ(WEXITSTATUS(st), 1) << "n1's bytes crossed the cut on a connection made before it "
                                   "(exit 0), or the server failed (exit > 1)";
  net->Teardown();
  ExpectNothingLeft(id);
}

TEST(NetnsTest, DestructorTearsDown) {
  SKIP_UNLESS_NETNS();
  NetOptions o;
  o.run_id = "netns-dtor-" + std::to_string(getpid());
  o.nodes = 2;
  std::string id = NetnsShortId(o.run_id);
  {
    auto net = MakeNetnsBackend(o);
    NetCluster c;
    auto host = net->HostOf();
    for (int i = 0; i < 2; ++i) {
      targets::NodeAddress a;
      a.name = "n" + std::to_string(i + 1);
      a.host = host(i);
      c.nodes.push_back(a);
    }
    ASSERT_TRUE(net->Prepare(c).ok());
    EXPECT_NE(Out({"ip", "-br", "link"}).find("tm" + id + "br"), std::string::npos);
  }
  ExpectNothingLeft(id);
}

TEST(NetnsTest, NamesFitInterfaceLimitsAndDifferPerRun) {
  EXPECT_EQ(NetnsShortId("a").size(), 6u);
  EXPECT_NE(NetnsShortId("store/t/20260101T000000Z"), NetnsShortId("store/t/20260101T000001Z"));
  // tm + 6 + v + up to 3 digits = 12 <= 15 (IFNAMSIZ - 1).
  EXPECT_LE(("tm" + NetnsShortId("x") + "v999").size(), 15u);
}

TEST(CleanNetnsTest, RemovesALeftoverNamespaceAndBridge) {
  SKIP_UNLESS_NETNS();
  std::string store =
      (fs::temp_directory_path() / ("tm-clean-" + std::to_string(getpid()))).string();
  fs::create_directories(store + "/run");
  std::string reg_path = store + "/run/cleanup.json";
  std::string id = NetnsShortId("clean-test-" + std::to_string(getpid()));
  std::string ns = "tm" + id + "-n1", br = "tm" + id + "br";
  {
    CleanupRegistry reg(reg_path);
    ASSERT_TRUE(reg.AddNamespace(ns).ok());
    ASSERT_TRUE(RunOk({"ip", "netns", "add", ns}).ok());
    ASSERT_TRUE(reg.AddLink(br).ok());
    ASSERT_TRUE(RunOk({"ip", "link", "add", br, "type", "bridge"}).ok());
  }
  // Pretend the controller was SIGKILLed.
  {
    std::ifstream in(reg_path);
    nlohmann::json doc = nlohmann::json::parse(in);
    pid_t dead = fork();
    if (dead == 0) _exit(0);
    waitpid(dead, nullptr, 0);
    doc["controller"]["pid"] = dead;
    std::ofstream(reg_path, std::ios::trunc) << doc.dump();
  }
  CleanReport r = CleanLeftovers(store);
  EXPECT_TRUE(r.errors.empty()) << (r.errors.empty() ? "" : r.errors[0]);
  EXPECT_EQ(r.removed.size(), 2u);
  ExpectNothingLeft(id);
  // Belt and braces if the sweep failed: never leave them behind.
  (void)RunCommand({"ip", "netns", "del", ns});
  (void)RunCommand({"ip", "link", "del", br});
  fs::remove_all(store);
}

}  // namespace
}  // namespace tidemark::nemesis
