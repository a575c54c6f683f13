// The adapter registry: lookups by name, the error for an unknown one, and that every
// registered adapter builds its clients through the same factories the runner uses.
#include "targets/adapters/registry.h"

#include <set>

#include <gtest/gtest.h>

#include "targets/adapters/stepped.h"

namespace tidemark::targets {
namespace {

ClientOptions Options() {
  ClientOptions o;
  o.client_id = "registry-test";
  return o;
}

TEST(RegistryTest, KnowsTheShippedAdaptersOnceEach) {
  std::set<std::string> names;
  for (const Adapter& a : Adapters()) {
    EXPECT_TRUE(names.insert(a.name).second) << "registered twice: " << a.name;
    // Either the two factories or a session, never both.
    EXPECT_EQ(bool(a.new_client), !a.open_session) << a.name;
    EXPECT_EQ(bool(a.new_status_client), !a.open_session) << a.name;
  }
  EXPECT_TRUE(names.count("tidelog-http"));
  EXPECT_TRUE(names.count("etcd-v3"));
  EXPECT_TRUE(names.count("redis"));
  EXPECT_TRUE(names.count("redis-wait"));
  EXPECT_TRUE(names.count("exec"));
  EXPECT_EQ(KnownAdapterNames(), "tidelog-http, etcd-v3, redis, redis-wait, exec");
  auto found = FindAdapter("etcd-v3");
  ASSERT_TRUE(found.ok());
  EXPECT_EQ((*found)->name, "etcd-v3");
}

TEST(RegistryTest, UnknownNameIsAnErrorListingTheKnownOnes) {
  const std::string known = "tidelog-http, etcd-v3, redis, redis-wait, exec";
  auto found = FindAdapter("riak");
  ASSERT_FALSE(found.ok());
  EXPECT_EQ(found.error().message, "unknown client adapter 'riak' (known: " + known + ")");
  // Every factory answers an unknown name with the same message.
  auto stepped = MakeSteppedClient("riak", Options());
  ASSERT_FALSE(stepped.ok());
  EXPECT_EQ(stepped.error().message, found.error().message);
  auto blocking = MakeClient("Etcd-V3", Options());
  ASSERT_FALSE(blocking.ok());
  EXPECT_NE(blocking.error().message.find("'Etcd-V3' (known: " + known + ")"), std::string::npos);
  auto status = MakeStatusClient("", 100);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message.find("known: " + known), std::string::npos);
  EXPECT_FALSE(QueryStatus("nope", "http://127.0.0.1:1").ok());
}

TEST(RegistryTest, OptionsAreCheckedBeforeAnyAdapterIsBuilt) {
  ClientOptions no_id = Options();
  no_id.client_id.clear();
  auto c = MakeSteppedClient("tidelog-http", no_id);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("client_id"), std::string::npos);
  ClientOptions zero = Options();
  zero.timeout_ms = 0;
  EXPECT_FALSE(MakeClient("etcd-v3", zero).ok());
  EXPECT_FALSE(MakeStatusClient("etcd-v3", 0).ok());
}

// Each adapter's client, built by name, asks for a POST under the node's URL (or a raw call to
// its address) for an op it can
// express, and completes at once (kFail, nothing sent) for one it cannot.
TEST(RegistryTest, EveryAdapterBuildsAClientAndAStatusClient) {
  for (const Adapter& a : Adapters()) {
    SCOPED_TRACE(a.name);
    if (a.open_session) {  // exec: needs its client program (exec_e2e_test)
      EXPECT_FALSE(MakeSteppedClient(a.name, Options()).ok());
      continue;
    }
    auto c = MakeSteppedClient(a.name, Options());
    ASSERT_TRUE(c.ok()) << c.error().message;
    OpRequest write;
    write.f = "write";
    write.key = "k1";
    write.value = 3;
    SteppedClient::Step s = (*c)->Begin(write, "n1", "http://127.0.0.1:7001");
    ASSERT_TRUE(s.call.has_value());
    if (s.call->reply_length) {  // a raw TCP call (transport.h)
      EXPECT_EQ(s.call->url, "tcp://127.0.0.1:7001");
    } else {
      EXPECT_EQ(s.call->url.rfind("http://127.0.0.1:7001/", 0), 0u) << s.call->url;
    }
    OpRequest bogus;
    bogus.f = "frobnicate";
    bogus.key = "k1";
    s = (*c)->Begin(bogus, "n1", "http://127.0.0.1:7001");
    EXPECT_FALSE(s.call.has_value());
    EXPECT_EQ(s.done.type, history::EventType::kFail);
    EXPECT_EQ(s.done.error.value_or("").rfind("not sent", 0), 0u) << s.done.error.value_or("");
    auto st = MakeStatusClient(a.name, 100);
    EXPECT_TRUE(st.ok()) << st.error().message;
  }
}

}  // namespace
}  // namespace tidemark::targets
