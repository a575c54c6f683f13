#include "targets/adapters/registry.h"

#include "targets/adapters/etcd_v3.h"
#include "targets/adapters/exec.h"
#include "targets/adapters/redis.h"
#include "targets/adapters/stepped.h"
#include "targets/adapters/tidelog_http.h"

namespace tidemark::targets {

const std::vector<Adapter>& Adapters() {
  // A new adapter is one line here (and its file pair): see registry.h.
  static const std::vector<Adapter> kAdapters = {
      TidelogHttpAdapter(),  // docs/protocol.md
      EtcdV3Adapter(),       // etcd's v3 JSON gateway
      RedisAdapter(),        // Redis over RESP, async replication (docs/redis.md)
      RedisWaitAdapter(),    // the same, WAIT after each write
      ExecAdapter(),         // the user's client program: docs/client-protocol.md
  };
  return kAdapters;
}

std::string KnownAdapterNames() {
  std::string names;
  for (const Adapter& a : Adapters()) names += (names.empty() ? "" : ", ") + a.name;
  return names;
}

Result<const Adapter*> FindAdapter(const std::string& name) {
  for (const Adapter& a : Adapters()) {
    if (a.name == name) return &a;
  }
  return Error{"unknown client adapter '" + name + "' (known: " + KnownAdapterNames() + ")"};
}

namespace {

// The session of an adapter that has only the two factories.
class PlainSession : public Session {
 public:
  explicit PlainSession(const Adapter* adapter) : adapter_(adapter) {}
  Result<std::unique_ptr<SteppedClient>> NewClient(const ClientOptions& opts) override {
    if (Status st = CheckClientOptions(opts); !st.ok()) return st.error();
    return adapter_->new_client(opts);
  }
  Result<std::unique_ptr<StatusClient>> NewStatusClient(int timeout_ms) override {
    return MakeStatusClient(adapter_->name, timeout_ms);
  }

 private:
  const Adapter* adapter_;
};

}  // namespace

Result<std::unique_ptr<Session>> OpenSession(const SessionContext& ctx) {
  auto found = FindAdapter(ctx.descriptor.adapter);
  if (!found.ok()) return found.error();
  if ((*found)->open_session) return (*found)->open_session(ctx);
  return std::unique_ptr<Session>(std::make_unique<PlainSession>(*found));
}

}  // namespace tidemark::targets
