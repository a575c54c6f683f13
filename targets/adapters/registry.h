// The adapter registry: every client adapter tidemark knows, by the name a target descriptor
// gives in "adapter" (targets/target.h).
//
// An adapter is two factories: its SteppedClient (stepped.h; one per client slot, driven by the
// harness's event loop) and its StatusClient (client.h; readiness and leader probes). Each
// adapter's own file pair defines a function returning its Adapter (TidelogHttpAdapter in
// tidelog_http.h, EtcdV3Adapter in etcd_v3.h); registry.cc lists those functions, one line per
// adapter. Nothing else — the runner, the descriptor parser, the nemesis — names an adapter:
// they look it up here (docs/writing-a-target.md, "Registering an adapter").
//
// Threading: the registry is built once, on first use, and read-only after: thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "targets/adapters/client.h"

namespace tidemark::targets {

class SteppedClient;

struct Adapter {
  std::string name;  // as in a descriptor's "adapter": "tidelog-http"
  // A client for one slot. `opts` has been checked (CheckClientOptions). Never null.
  std::function<std::unique_ptr<SteppedClient>(const ClientOptions& opts)> new_client;
  // A status client whose calls each take at most `timeout_ms` (> 0). Errors: the transport
  // could not be set up (the message says why).
  std::function<Result<std::unique_ptr<StatusClient>>(int timeout_ms)> new_status_client;
};

// Every registered adapter, in registration order.
const std::vector<Adapter>& Adapters();

// "tidelog-http, etcd-v3": the registered names, for error messages.
std::string KnownAdapterNames();

// The adapter called `name`. Errors: "unknown client adapter 'x' (known: tidelog-http, ...)".
Result<const Adapter*> FindAdapter(const std::string& name);

// The adapter's client for one slot. Errors: unknown adapter, bad options (CheckClientOptions).
Result<std::unique_ptr<SteppedClient>> MakeSteppedClient(const std::string& adapter,
                                                         const ClientOptions& opts);

}  // namespace tidemark::targets
