#include "targets/adapters/registry.h"

#include "targets/adapters/etcd_v3.h"
#include "targets/adapters/redis.h"
#include "targets/adapters/tidelog_http.h"

namespace tidemark::targets {

const std::vector<Adapter>& Adapters() {
  // A new adapter is one line here (and its file pair): see registry.h.
  static const std::vector<Adapter> kAdapters = {
      TidelogHttpAdapter(),  // docs/protocol.md
      EtcdV3Adapter(),       // etcd's v3 JSON gateway
      RedisAdapter(),        // Redis over RESP, async replication (docs/redis.md)
      RedisWaitAdapter(),    // the same, WAIT after each write
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

}  // namespace tidemark::targets
