#include "targets/target.h"

#include "targets/adapters/exec.h"

#include <gtest/gtest.h>

namespace tidemark::targets {
namespace {

const char* kMinimal = R"({
  "name": "t", "adapter": "tidelog-http",
  "start": {"argv": ["{bin_dir}/server", "--id", "{node}", "--listen", "{host}:{client_port}",
                     "{per_peer}", "{bug_args}"],
            "per_peer": ["--peer", "{peer}={peer_host}:{peer_client_port}"],
            "bug_argv": ["--bug", "{bug}"]}
})";

StartContext Ctx() {
  StartContext ctx;
  ctx.all_nodes = {{"n1", 1, "127.0.0.1", {{"client", 7001}}},
                   {"n2", 2, "127.0.0.1", {{"client", 7002}}},
                   {"n3", 3, "127.0.0.1", {{"client", 7003}}}};
  ctx.self = ctx.all_nodes[0];
  ctx.peers = {ctx.all_nodes[1], ctx.all_nodes[2]};
  ctx.peers[1].ports["client"] = 9999;  // e.g. a proxy in front of n3, as n1 dials it
  ctx.data_dir = "/run/nodes/n1/data";
  ctx.bin_dir = "/opt/tm";
  return ctx;
}

TEST(DescriptorTest, ExpandsArgvPerPeerAndBugs) {
  auto d = ParseDescriptor(kMinimal, "t.json");
  ASSERT_TRUE(d.ok()) << d.error().message;
  StartContext ctx = Ctx();
  ctx.bugs = {"lazy-fsync", "no-idempotency"};
  auto argv = ExpandStartArgv(*d, ctx);
  ASSERT_TRUE(argv.ok()) << argv.error().message;
  std::vector<std::string> want = {"/opt/tm/server",
                                   "--id",
                                   "n1",
                                   "--listen",
                                   "127.0.0.1:7001",
                                   "--peer",
                                   "n2=127.0.0.1:7002",
                                   "--peer",
                                   "n3=127.0.0.1:9999",
                                   "--bug",
                                   "lazy-fsync",
                                   "--bug",
                                   "no-idempotency"};
  EXPECT_EQ(*argv, want);
}

TEST(DescriptorTest, ClusterAndPeersLists) {
  auto d = ParseDescriptor(R"({"name":"e","adapter":"etcd-v3","ports":["client","peer"],
    "peer_port":"peer",
    "start":{"argv":["etcd","--name","{node}","--initial-cluster","{cluster}","--x","{peers}"],
             "peer_entry":"{peer}=http://{peer_host}:{peer_peer_port}"}})",
                           "e.json");
  ASSERT_TRUE(d.ok()) << d.error().message;
  StartContext ctx = Ctx();
  for (auto* list : {&ctx.all_nodes, &ctx.peers})
    for (auto& n : *list) n.ports["peer"] = n.ports["client"] + 100;
  ctx.self.ports["peer"] = 7101;
  auto argv = ExpandStartArgv(*d, ctx);
  ASSERT_TRUE(argv.ok()) << argv.error().message;
  EXPECT_EQ((*argv)[4],
            "n1=http://127.0.0.1:7101,n2=http://127.0.0.1:7102,n3=http://127.0.0.1:7103");
  EXPECT_EQ((*argv)[6], "n2=http://127.0.0.1:7102,n3=http://127.0.0.1:10099");
}

void ExpectError(const std::string& text, const std::string& fragment) {
  auto d = ParseDescriptor(text, "bad.json");
  ASSERT_FALSE(d.ok()) << "accepted: " << text;
  EXPECT_NE(d.error().message.find("bad.json"), std::string::npos) << d.error().message;
  EXPECT_NE(d.error().message.find(fragment), std::string::npos) << d.error().message;
}

TEST(DescriptorTest, RejectsBadDescriptorsWithFileKeyAndReason) {
  ExpectError("{nope", "bad.json:1:3: not valid JSON");
  // A syntax error deep in a file names its line and column.
  ExpectError("{\n  \"name\": \"t\",\n  \"adapter\": \"tidelog-http\"\n  \"start\": {}\n}",
              "bad.json:4:9: not valid JSON");
  ExpectError("{\"name\": \"t\",\n\"workloads\": [\"log\",]}", "bad.json:2:21: not valid JSON");
  ExpectError(R"({"name":"t","adapter":"tidelog-http","start":{"argv":["x"]},"colour":1})",
              "\"colour\" is not a descriptor key");
  ExpectError(R"({"name":"t","adapter":"carrier-pigeon","start":{"argv":["x"]}})",
              "unknown adapter");
  ExpectError(R"({"name":"t","adapter":"tidelog-http"})", "\"start\" is required");
  ExpectError(R"({"name":"t","adapter":"tidelog-http","start":{"argv":"x --id {node}"}})",
              "array of strings");
  ExpectError(R"({"name":"t","adapter":"tidelog-http","start":{"argv":["x","{nodee}"]}})",
              "unknown placeholder {nodee}");
  ExpectError(
      R"({"name":"t","adapter":"tidelog-http","start":{"argv":["x"],"per_peer":["{peer_port}"]}})",
      "per_peer");
  ExpectError(
      R"({"name":"t","adapter":"tidelog-http","start":{"argv":["x"]},"workloads":["bank"]})",
      "unknown workload");
  ExpectError(
      R"({"name":"t","adapter":"tidelog-http","start":{"argv":["x"]},"capabilities":{"kill":"yes"}})",
      "capabilities.kill");
  ExpectError(R"({"name":"t","adapter":"tidelog-http","start":{"argv":["x"]},"peer_port":"raft"})",
              "not one of the names in \"ports\"");
  ExpectError(
      R"({"name":"t","adapter":"tidelog-http","start":{"argv":["x"]},"ready":{"timeout_s":-1}})",
      "ready.timeout_s");
}

TEST(DescriptorTest, ShippedTidelogDescriptorLoads) {
  auto d = LoadDescriptor("tidelog", {std::string(TIDEMARK_SOURCE_DIR) + "/targets"});
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->adapter, "tidelog-http");
  EXPECT_TRUE(d->capabilities.kill);
  EXPECT_FALSE(d->capabilities.dump_argv.empty());
}

const char* kPrimaryReplicas = R"({
  "name": "r", "adapter": "redis", "ports": ["client", "sentinel"],
  "start": {"argv": ["redis-server", "{node_dir}/redis.conf", "{role_args}"],
            "roles": {"first": [], "others": ["--replicaof", "{first_host}", "{first_client_port}"]}},
  "processes": [{"name": "sentinel", "argv": ["redis-sentinel", "{node_dir}/sentinel.conf"]}],
  "files": [{"path": "sentinel.conf",
             "lines": ["port {sentinel_port}",
                       "sentinel monitor m {first_host} {first_client_port} {quorum}"]}]
})";

StartContext RedisCtx(int self) {
  StartContext ctx;
  for (int i = 1; i <= 3; ++i)
    ctx.all_nodes.push_back({"n" + std::to_string(i),
                             i,
                             "10.0.0." + std::to_string(i),
                             {{"client", 7000 + i}, {"sentinel", 8000 + i}}});
  ctx.self = ctx.all_nodes[static_cast<size_t>(self - 1)];
  for (const auto& n : ctx.all_nodes)
    if (n.index != self) ctx.peers.push_back(n);
  ctx.node_dir = "/run/nodes/" + ctx.self.name;
  return ctx;
}

TEST(DescriptorTest, RolesMakeTheFirstNodePrimaryAndTheOthersReplicas) {
  auto d = ParseDescriptor(kPrimaryReplicas, "r.json");
  ASSERT_TRUE(d.ok()) << d.error().message;
  auto first = ExpandStartArgv(*d, RedisCtx(1));
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(*first, (std::vector<std::string>{"redis-server", "/run/nodes/n1/redis.conf"}));
  auto other = ExpandStartArgv(*d, RedisCtx(3));
  ASSERT_TRUE(other.ok()) << other.error().message;
  EXPECT_EQ(*other, (std::vector<std::string>{"redis-server", "/run/nodes/n3/redis.conf",
                                              "--replicaof", "10.0.0.1", "7001"}));
}

TEST(DescriptorTest, FurtherProcessesAndFilesExpandPerNode) {
  auto d = ParseDescriptor(kPrimaryReplicas, "r.json");
  ASSERT_TRUE(d.ok()) << d.error().message;
  ASSERT_EQ(d->processes.size(), 1u);
  EXPECT_EQ(d->processes[0].name, "sentinel");
  auto argv = ExpandProcessArgv(*d, 0, RedisCtx(2));
  ASSERT_TRUE(argv.ok()) << argv.error().message;
  EXPECT_EQ(*argv, (std::vector<std::string>{"redis-sentinel", "/run/nodes/n2/sentinel.conf"}));
  auto text = RenderFile(*d, 0, RedisCtx(2));
  ASSERT_TRUE(text.ok()) << text.error().message;
  EXPECT_EQ(*text, "port 8002\nsentinel monitor m 10.0.0.1 7001 2\n");
}

TEST(DescriptorTest, BadProcessesFilesAndRolesAreErrors) {
  const std::string head = R"({"name":"t","adapter":"redis","start":{"argv":["x"]},)";
  ExpectError(head + R"("processes":[{"name":"s"}]})", "processes[0]");
  ExpectError(head + R"("processes":[{"name":"a/b","argv":["y"]}]})", "plain word");
  ExpectError(head + R"("processes":[{"name":"s","argv":["y","{nope}"]}]})", "{nope}");
  ExpectError(head + R"("files":[{"path":"../x","lines":[]}]})", "inside the node's directory");
  ExpectError(head + R"("files":[{"path":"x","lines":["{typo_port}"]}]})", "{typo_port}");
  ExpectError(R"({"name":"t","adapter":"redis","start":{"argv":["x"],"roles":{"primary":[]}}})",
              "not a role");
  ExpectError(R"({"name":"t","adapter":"redis","start":{"argv":["x"],"roles":{"others":["{x}"]}}})",
              "{x}");
}

TEST(DescriptorTest, ShippedRedisDescriptorsLoad) {
  for (const char* name : {"redis", "redis-wait"}) {
    auto d = LoadDescriptor(name, {std::string(TIDEMARK_SOURCE_DIR) + "/targets"});
    ASSERT_TRUE(d.ok()) << d.error().message;
    EXPECT_EQ(d->adapter, name);
    EXPECT_EQ(d->processes.size(), 1u);
    EXPECT_EQ(d->files.size(), 2u);
  }
}

TEST(DescriptorTest, MissingDescriptorSaysWhereItLooked) {
  auto d = LoadDescriptor("nosuch", {"/tmp/a", "/tmp/b"});
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.error().message.find("/tmp/a/nosuch.json"), std::string::npos);
}

// "client" goes with "adapter": "exec" and with nothing else; its argv fills {descriptor_dir}.
TEST(DescriptorTest, ExecNeedsAClientAndOnlyExecTakesOne) {
  const std::string start = R"("start": {"argv": ["/bin/server", "{host}:{client_port}"]})";
  auto none = ParseDescriptor(R"({"name": "t", "adapter": "exec", )" + start + "}", "d/t.json");
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().message.find("client"), std::string::npos) << none.error().message;
  auto wrong = ParseDescriptor(
      R"({"name": "t", "adapter": "tidelog-http", "client": {"argv": ["x"]}, )" + start + "}",
      "d/t.json");
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.error().message.find("only for"), std::string::npos) << wrong.error().message;
  auto typo = ParseDescriptor(
      R"({"name": "t", "adapter": "exec", "client": {"argv": ["{descriptor_dri}/c"]}, )" + start +
          "}",
      "d/t.json");
  ASSERT_FALSE(typo.ok());
  EXPECT_NE(typo.error().message.find("{descriptor_dri}"), std::string::npos)
      << typo.error().message;
  auto good = ParseDescriptor(R"({"name": "t", "adapter": "exec", "client": {"argv": )"
                              R"(["python3", "{descriptor_dir}/c.py"], "max_restarts": 1}, )" +
                                  start + "}",
                              "d/t.json");
  ASSERT_TRUE(good.ok()) << good.error().message;
  EXPECT_EQ(good->client.max_restarts, 1);
  auto argv = ExpandClientArgv(*good, "/b");
  ASSERT_TRUE(argv.ok());
  EXPECT_EQ(*argv, (std::vector<std::string>{"python3", "d/c.py"}));
}

}  // namespace
}  // namespace tidemark::targets
