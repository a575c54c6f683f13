#include "targets/adapters/client.h"

#include <algorithm>

#include "targets/adapters/curl_post.h"
#include "targets/adapters/etcd_v3.h"
#include "targets/adapters/raw_http.h"
#include "targets/adapters/tidelog_http.h"

namespace tidemark::targets {
namespace {

using nlohmann::json;
namespace th = tidelog_http;

// A log read longer than this many pages is cut short (docs/protocol.md: 100 000 offsets each).
constexpr int kMaxPages = 1000;

class TidelogHttpClient : public Client {
 public:
  TidelogHttpClient(ClientOptions opts, std::unique_ptr<HttpPoster> poster)
      : opts_(std::move(opts)), poster_(std::move(poster)) {
    opts_.connect_timeout_ms = std::min(opts_.connect_timeout_ms, opts_.timeout_ms);
  }

  Completion Invoke(const OpRequest& op, const std::string& node_name,
                    const std::string& base_url) override {
    const int64_t seq = th::IsMutating(op) ? ++seq_ : 0;
    auto req = th::BuildRequest(op, opts_.client_id, seq);
    if (!req.ok()) {
      Completion c;
      c.type = history::EventType::kFail;
      c.value = op.value;
      c.error = "not sent: " + req.error().message;
      c.node = node_name;
      return c;
    }
    std::string node = node_name;
    std::string url = base_url;
    th::HttpOutcome out = poster_->Post(url + req->path, req->body.dump(), opts_.timeout_ms,
                                        opts_.connect_timeout_ms);
    // A definite not_leader applied nothing, so the same request (same seq) may go to the
    // leader it names.
    for (int hop = 0; hop < opts_.max_leader_hops; ++hop) {
      auto hint = th::NotLeaderHint(out);
      if (!hint || *hint == node) break;
      auto it = opts_.node_urls.find(*hint);
      if (it == opts_.node_urls.end()) break;
      node = *hint;
      url = it->second;
      out = poster_->Post(url + req->path, req->body.dump(), opts_.timeout_ms,
                          opts_.connect_timeout_ms);
    }
    if (seq > 0) {
      // Once an attempt's outcome is unknown, a later definite failure (e.g. not_leader) says
      // nothing about that earlier attempt, which may still be applied: the op stays unknown.
      for (int retry = 0; retry < opts_.retry_indefinite; ++retry) {
        if (th::MapOutcome(op, out, node).type != history::EventType::kInfo) break;
        th::HttpOutcome again = poster_->Post(url + req->path, req->body.dump(), opts_.timeout_ms,
                                              opts_.connect_timeout_ms);
        if (th::MapOutcome(op, again, node).type == history::EventType::kFail) break;
        out = std::move(again);
      }
    }
    // One parse of each response: the pages are merged into `body`, which MapOutcome consumes.
    json body = out.curl_code == 0 ? json::parse(out.body, nullptr, false) : json();
    if (op.f == "read" && !op.key) ReadRemainingPages(*req, url, out, body);
    return th::MapOutcome(op, out, std::move(body), node);
  }

 private:
  // Follows a paged log read to its end, merging the pages' entries into `body` (the first
  // page, parsed). Any failed page makes the whole read that failure (`out` and `body` become
  // that page's; a read has no effect, so that is safe).
  void ReadRemainingPages(const th::HttpRequest& req, const std::string& url, th::HttpOutcome& out,
                          json& body) {
    if (out.curl_code != 0 || out.http_status != 200) return;
    if (!body.is_object() || !body.contains("entries") || !body["entries"].is_array()) return;
    json request = req.body;
    for (int i = 0; i < kMaxPages; ++i) {
      // NextPage reads only from/to/hwm; `body` carries the latest page's to and hwm.
      auto next = th::NextPage(request, body);
      if (!next) break;
      request = *next;
      th::HttpOutcome page_out =
          poster_->Post(url + req.path, request.dump(), opts_.timeout_ms, opts_.connect_timeout_ms);
      json page = page_out.curl_code == 0 ? json::parse(page_out.body, nullptr, false) : json();
      if (page_out.curl_code != 0 || page_out.http_status != 200 || !page.is_object() ||
          !page.contains("entries") || !page["entries"].is_array()) {
        out = std::move(page_out);
        body = std::move(page);
        return;
      }
      json& entries = body["entries"];
      for (auto& e : page["entries"]) entries.push_back(std::move(e));
      body["to"] = page.value("to", json());
      body["hwm"] = page.value("hwm", json());
    }
  }

  ClientOptions opts_;
  std::unique_ptr<HttpPoster> poster_;
  int64_t seq_ = 0;
};

}  // namespace

Result<std::unique_ptr<Client>> MakeClient(const std::string& adapter, const ClientOptions& opts) {
  if (adapter != "tidelog-http" && adapter != "etcd-v3") {
    return Error{"unknown client adapter '" + adapter + "' (known: tidelog-http, etcd-v3)"};
  }
  if (opts.client_id.empty()) return Error{"client adapter needs a non-empty client_id"};
  if (opts.timeout_ms <= 0 || opts.connect_timeout_ms <= 0) {
    return Error{"client timeouts must be positive (ms)"};
  }
  if (adapter == "etcd-v3") {
    auto poster = CurlPoster::Create();
    if (!poster.ok()) return poster.error();
    return etcd_v3::NewClient(opts, std::move(poster).value());
  }
  // Kept-alive raw connections: never a re-send (raw_http.h), a fraction of libcurl's CPU.
  return std::unique_ptr<Client>(
      std::make_unique<TidelogHttpClient>(opts, std::make_unique<RawHttpPoster>()));
}

namespace {

class TidelogStatusClient : public StatusClient {
 public:
  TidelogStatusClient(int timeout_ms, std::unique_ptr<HttpPoster> poster)
      : timeout_ms_(timeout_ms), poster_(std::move(poster)) {}

  Result<NodeStatus> Status(const std::string& base_url) override {
    th::HttpOutcome out = poster_->Post(base_url + "/v1/status", "{}", timeout_ms_, timeout_ms_);
    if (out.curl_code != 0) {
      OpRequest probe;  // a read: only to phrase the transport error
      probe.f = "read";
      probe.value = json::object();
      auto c = th::MapOutcome(probe, out, "");
      return Error{base_url + "/v1/status: " + c.error.value_or("unreachable")};
    }
    if (out.http_status != 200) {
      return Error{base_url + "/v1/status: http " + std::to_string(out.http_status)};
    }
    auto st = th::ParseStatus(out.body);
    if (!st.ok()) return Error{base_url + "/v1/status: " + st.error().message};
    return st;
  }

 private:
  int timeout_ms_;
  std::unique_ptr<HttpPoster> poster_;
};

}  // namespace

Result<std::unique_ptr<StatusClient>> MakeStatusClient(const std::string& adapter, int timeout_ms) {
  if (adapter != "tidelog-http" && adapter != "etcd-v3") {
    return Error{"adapter '" + adapter + "' has no status call (known: tidelog-http, etcd-v3)"};
  }
  if (timeout_ms <= 0) return Error{"status timeout must be positive (ms)"};
  if (adapter == "etcd-v3") {
    auto poster = CurlPoster::Create();
    if (!poster.ok()) return poster.error();
    return etcd_v3::NewStatusClient(timeout_ms, std::move(poster).value());
  }
  return std::unique_ptr<StatusClient>(
      std::make_unique<TidelogStatusClient>(timeout_ms, std::make_unique<RawHttpPoster>()));
}

Result<NodeStatus> QueryStatus(const std::string& adapter, const std::string& base_url,
                               int timeout_ms) {
  auto client = MakeStatusClient(adapter, timeout_ms);
  if (!client.ok()) return client.error();
  return (*client)->Status(base_url);
}

}  // namespace tidemark::targets
