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
// An adapter that needs a whole run's context — the descriptor, the run directory, the nodes —
// and state shared by its clients (exec.h starts the user's client program once per run) opens
// a Session instead of offering the two factories. The runner always goes through OpenSession,
// which wraps the factories of the other adapters in a plain session.
//
// Threading: the registry is built once, on first use, and read-only after: thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "targets/adapters/client.h"
#include "targets/target.h"

namespace tidemark::targets {

class SteppedClient;

// What a session knows of its run.
struct SessionContext {
  Descriptor descriptor;  // the target
  std::string run_dir;    // the run directory ("" in tools: files go nowhere)
  std::string bin_dir;    // the build directory ({bin_dir} in a client argv)
  std::vector<std::pair<std::string, std::string>> nodes;  // name, client URL; in node order
};

// One run's use of an adapter.
class Session {
 public:
  virtual ~Session() = default;
  // A client for one slot, driven on the driver's thread. `opts` has been checked.
  virtual Result<std::unique_ptr<SteppedClient>> NewClient(const ClientOptions& opts) = 0;
  // A status client whose calls each take at most about `timeout_ms` (> 0). May be called from
  // any thread; the client is then used by one thread at a time.
  virtual Result<std::unique_ptr<StatusClient>> NewStatusClient(int timeout_ms) = 0;
  // Set once the session can serve no more ops; the run then ends `unknown` with this reason.
  // Driver thread.
  virtual std::optional<std::string> Fatal() const { return std::nullopt; }
  // What happened to the session's own machinery, for results.json "client" (exec: starts,
  // crashes, late replies); null when there is nothing to say. Driver thread, after Close.
  virtual nlohmann::json Describe() const { return nullptr; }
  // Stops whatever the session runs. Idempotent; clients must not be used after it.
  virtual void Close() {}
};

struct Adapter {
  std::string name;  // as in a descriptor's "adapter": "tidelog-http"
  // A client for one slot. `opts` has been checked (CheckClientOptions). Never null.
  std::function<std::unique_ptr<SteppedClient>(const ClientOptions& opts)> new_client;
  // A status client whose calls each take at most `timeout_ms` (> 0). Errors: the transport
  // could not be set up (the message says why).
  std::function<Result<std::unique_ptr<StatusClient>>(int timeout_ms)> new_status_client;
  // Instead of the two factories (which are then empty): a session per run (see above).
  std::function<Result<std::unique_ptr<Session>>(const SessionContext& ctx)> open_session;
};

// Every registered adapter, in registration order.
const std::vector<Adapter>& Adapters();

// "tidelog-http, etcd-v3": the registered names, for error messages.
std::string KnownAdapterNames();

// The adapter called `name`. Errors: "unknown client adapter 'x' (known: tidelog-http, ...)".
Result<const Adapter*> FindAdapter(const std::string& name);

// The session of the descriptor's adapter for one run. Errors: unknown adapter; the adapter's
// own (exec: the client program did not start or answer hello).
Result<std::unique_ptr<Session>> OpenSession(const SessionContext& ctx);

// The adapter's client for one slot. Errors: unknown adapter, bad options (CheckClientOptions).
Result<std::unique_ptr<SteppedClient>> MakeSteppedClient(const std::string& adapter,
                                                         const ClientOptions& opts);

}  // namespace tidemark::targets
