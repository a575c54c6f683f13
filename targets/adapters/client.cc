#include "targets/adapters/client.h"

#include "targets/adapters/raw_http.h"
#include "targets/adapters/registry.h"
#include "targets/adapters/stepped.h"

namespace tidemark::targets {
namespace {

using nlohmann::json;

// A SteppedClient driven by a blocking transport.
class BlockingClient : public Client {
 public:
  BlockingClient(std::unique_ptr<SteppedClient> stepped, std::unique_ptr<HttpPoster> poster)
      : stepped_(std::move(stepped)), poster_(std::move(poster)) {}

  Completion Invoke(const OpRequest& op, const std::string& node_name,
                    const std::string& base_url) override {
    SteppedClient::Step s = stepped_->Begin(op, node_name, base_url);
    while (s.call) s = stepped_->Continue(poster_->Post(*s.call));
    return std::move(s.done);
  }

 private:
  std::unique_ptr<SteppedClient> stepped_;
  std::unique_ptr<HttpPoster> poster_;
};

}  // namespace

Completion MakeCompletion(history::EventType type, json value, std::optional<std::string> error,
                          const std::string& node) {
  Completion c;
  c.type = type;
  c.value = std::move(value);
  c.error = std::move(error);
  c.node = node;
  return c;
}

json FullValue(const Completion& c) {
  return c.value_text.empty() ? c.value : json::parse(c.value_text, nullptr, false);
}

Status CheckClientOptions(const ClientOptions& opts) {
  if (opts.client_id.empty()) return Error{"client adapter needs a non-empty client_id"};
  if (opts.timeout_ms <= 0 || opts.connect_timeout_ms <= 0) {
    return Error{"client timeouts must be positive (ms)"};
  }
  return OkStatus();
}

Result<std::unique_ptr<SteppedClient>> MakeSteppedClient(const std::string& adapter,
                                                         const ClientOptions& opts) {
  auto found = FindAdapter(adapter);
  if (!found.ok()) return found.error();
  if (Status st = CheckClientOptions(opts); !st.ok()) return st.error();
  if (!(*found)->new_client)
    return Error{"adapter '" + adapter + "' needs a run's session (targets::OpenSession)"};
  return (*found)->new_client(opts);
}

Result<std::unique_ptr<Client>> MakeClient(const std::string& adapter, const ClientOptions& opts) {
  auto stepped = MakeSteppedClient(adapter, opts);
  if (!stepped.ok()) return stepped.error();
  return std::unique_ptr<Client>(std::make_unique<BlockingClient>(
      std::move(stepped).value(), std::make_unique<RawHttpPoster>()));
}

Result<std::unique_ptr<StatusClient>> MakeStatusClient(const std::string& adapter, int timeout_ms) {
  auto found = FindAdapter(adapter);
  if (!found.ok()) return found.error();
  if (timeout_ms <= 0) return Error{"status timeout must be positive (ms)"};
  if (!(*found)->new_status_client)
    return Error{"adapter '" + adapter + "' needs a run's session (targets::OpenSession)"};
  return (*found)->new_status_client(timeout_ms);
}

Result<NodeStatus> QueryStatus(const std::string& adapter, const std::string& base_url,
                               int timeout_ms) {
  auto client = MakeStatusClient(adapter, timeout_ms);
  if (!client.ok()) return client.error();
  return (*client)->Status(base_url);
}

}  // namespace tidemark::targets
