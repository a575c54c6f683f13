#include "targets/adapters/client.h"

#include <algorithm>

#include "targets/adapters/curl_post.h"
#include "targets/adapters/etcd_v3.h"
#include "targets/adapters/log_read_scan.h"
#include "targets/adapters/raw_http.h"
#include "targets/adapters/stepped.h"
#include "targets/adapters/tidelog_http.h"

namespace tidemark::targets {
namespace {

using nlohmann::json;
namespace th = tidelog_http;

// A log read longer than this many pages is cut short (docs/protocol.md: 100 000 offsets each).
constexpr int kMaxPages = 1000;

// tidelog-http as a state machine (stepped.h): the first POST, then leader hops on a definite
// not_leader that names a leader, then idempotent re-sends of an unknown outcome, then the
// remaining pages of a paged log read.
class TidelogStepped : public SteppedClient {
 public:
  explicit TidelogStepped(ClientOptions opts) : opts_(std::move(opts)) {
    opts_.connect_timeout_ms = std::min(opts_.connect_timeout_ms, opts_.timeout_ms);
  }

  Step Begin(const OpRequest& op, const std::string& node_name,
             const std::string& base_url) override {
    op_ = op;
    seq_now_ = th::IsMutating(op) ? ++seq_ : 0;
    auto req = th::BuildRequest(op, opts_.client_id, seq_now_);
    if (!req.ok()) {
      Completion c;
      c.type = history::EventType::kFail;
      c.value = op.value;
      c.error = "not sent: " + req.error().message;
      c.node = node_name;
      return Done(std::move(c));
    }
    req_ = std::move(*req);
    body_text_ = req_.body.dump();
    node_ = node_name;
    url_ = base_url;
    hops_ = 0;
    retries_ = 0;
    pages_ = 0;
    phase_ = Phase::kFirst;
    return Call(body_text_);
  }

  Step Continue(th::HttpOutcome outcome) override {
    switch (phase_) {
      case Phase::kFirst:
        // A definite not_leader applied nothing, so the same request (same seq) may go to the
        // leader it names.
        if (hops_ < opts_.max_leader_hops) {
          if (auto hint = th::NotLeaderHint(outcome); hint && *hint != node_) {
            if (auto it = opts_.node_urls.find(*hint); it != opts_.node_urls.end()) {
              ++hops_;
              node_ = *hint;
              url_ = it->second;
              return Call(body_text_);
            }
          }
        }
        out_ = std::move(outcome);
        return AfterAttempt();
      case Phase::kRetry:
        // Once an attempt's outcome is unknown, a later definite failure (e.g. not_leader)
        // says nothing about that earlier attempt, which may still be applied: the op stays
        // unknown.
        if (th::MapOutcome(op_, outcome, node_).type == history::EventType::kFail) return Finish();
        out_ = std::move(outcome);
        return AfterAttempt();
      case Phase::kPages:
        return AfterPage(std::move(outcome));
    }
    return Finish();
  }

 private:
  enum class Phase { kFirst, kRetry, kPages };

  Step Call(const std::string& body) {
    // Reads get the shorter read timeout; the final reads (which may page through the whole
    // log once the faults are over) keep the full one.
    const bool final_read = op_.value.is_object() && op_.value.value("final", false);
    int timeout = opts_.timeout_ms;
    if (seq_now_ == 0 && !final_read && opts_.read_timeout_ms > 0)
      timeout = std::min(timeout, opts_.read_timeout_ms);
    Step s;
    s.call = HttpCall{url_ + req_.path, body, timeout, std::min(opts_.connect_timeout_ms, timeout)};
    return s;
  }
  static Step Done(Completion c) {
    Step s;
    s.done = std::move(c);
    return s;
  }

  // out_ holds the latest attempt worth keeping: re-send it if unknown, else go on.
  Step AfterAttempt() {
    if (seq_now_ > 0 && retries_ < opts_.retry_indefinite &&
        th::MapOutcome(op_, out_, node_).type == history::EventType::kInfo) {
      ++retries_;
      phase_ = Phase::kRetry;
      return Call(body_text_);
    }
    scanned_.reset();
    if (op_.f == "read" && !op_.key && out_.curl_code == 0 && out_.http_status == 200) {
      // The hot path: a log read's entries stay text (log_read_scan.h), never a JSON tree.
      if (auto page = th::ScanLogReadPage(out_.body)) {
        scanned_ = std::move(*page);
        page_request_ = req_.body;
        return NextPageOrFinish();
      }
    }
    // One parse of each response: the pages are merged into `body_`, which MapOutcome consumes.
    body_ = out_.curl_code == 0 ? json::parse(out_.body, nullptr, false) : json();
    if (op_.f == "read" && !op_.key && out_.curl_code == 0 && out_.http_status == 200 &&
        body_.is_object() && body_.contains("entries") && body_["entries"].is_array()) {
      page_request_ = req_.body;
      return NextPageOrFinish();
    }
    return Finish();
  }

  // Follows a paged log read to its end (NextPage reads only from/to/hwm; `body_` carries the
  // latest page's to and hwm). A log read longer than kMaxPages pages is cut short.
  Step NextPageOrFinish() {
    if (pages_ >= kMaxPages) return Finish();
    auto next = scanned_ ? th::NextPage(page_request_, scanned_->to, scanned_->hwm)
                         : th::NextPage(page_request_, body_);
    if (!next) return Finish();
    page_request_ = std::move(*next);
    ++pages_;
    phase_ = Phase::kPages;
    return Call(page_request_.dump());
  }

  // Any failed page makes the whole read that failure (a read has no effect, so that is safe).
  Step AfterPage(th::HttpOutcome page_out) {
    if (scanned_) {
      if (page_out.curl_code == 0 && page_out.http_status == 200) {
        auto page = th::ScanLogReadPage(page_out.body);
        if (!page) {
          // Not the shape the first page had: the read fails (it had no effect).
          Completion c;
          c.type = history::EventType::kFail;
          c.value = op_.value;
          c.error = "malformed response: page " + std::to_string(pages_ + 1) + " of a log read";
          c.node = node_;
          scanned_.reset();
          return Done(std::move(c));
        }
        th::AppendPage(*scanned_, std::move(*page));
        return NextPageOrFinish();
      }
      scanned_.reset();
      out_ = std::move(page_out);
      return Finish();
    }
    json page = page_out.curl_code == 0 ? json::parse(page_out.body, nullptr, false) : json();
    if (page_out.curl_code != 0 || page_out.http_status != 200 || !page.is_object() ||
        !page.contains("entries") || !page["entries"].is_array()) {
      out_ = std::move(page_out);
      body_ = std::move(page);
      return Finish();
    }
    json& entries = body_["entries"];
    for (auto& e : page["entries"]) entries.push_back(std::move(e));
    body_["to"] = page.value("to", json());
    body_["hwm"] = page.value("hwm", json());
    return NextPageOrFinish();
  }

  Step Finish() {
    if (scanned_) {
      Completion c = th::LogReadCompletion(op_, *scanned_, node_);
      scanned_.reset();
      return Done(std::move(c));
    }
    if (body_.is_null() && out_.curl_code == 0) body_ = json::parse(out_.body, nullptr, false);
    Step s = Done(th::MapOutcome(op_, out_, std::move(body_), node_));
    body_ = json();
    return s;
  }

  ClientOptions opts_;
  int64_t seq_ = 0;
  // The op in progress.
  OpRequest op_;
  int64_t seq_now_ = 0;
  th::HttpRequest req_;
  std::string body_text_;
  std::string node_;
  std::string url_;
  Phase phase_ = Phase::kFirst;
  int hops_ = 0;
  int retries_ = 0;
  int pages_ = 0;
  th::HttpOutcome out_;  // the attempt whose outcome the op takes
  json body_;            // out_.body parsed (pages merged), once known
  json page_request_;
  std::optional<th::LogReadPage> scanned_;  // a log read on the fast path: the pages so far
};

// A SteppedClient driven by a blocking transport.
class BlockingClient : public Client {
 public:
  BlockingClient(std::unique_ptr<SteppedClient> stepped, std::unique_ptr<HttpPoster> poster)
      : stepped_(std::move(stepped)), poster_(std::move(poster)) {}

  Completion Invoke(const OpRequest& op, const std::string& node_name,
                    const std::string& base_url) override {
    SteppedClient::Step s = stepped_->Begin(op, node_name, base_url);
    while (s.call) {
      s = stepped_->Continue(
          poster_->Post(s.call->url, s.call->body, s.call->timeout_ms, s.call->connect_timeout_ms));
    }
    return std::move(s.done);
  }

 private:
  std::unique_ptr<SteppedClient> stepped_;
  std::unique_ptr<HttpPoster> poster_;
};

Status CheckOptions(const std::string& adapter, const ClientOptions& opts) {
  if (adapter != "tidelog-http" && adapter != "etcd-v3") {
    return Error{"unknown client adapter '" + adapter + "' (known: tidelog-http, etcd-v3)"};
  }
  if (opts.client_id.empty()) return Error{"client adapter needs a non-empty client_id"};
  if (opts.timeout_ms <= 0 || opts.connect_timeout_ms <= 0) {
    return Error{"client timeouts must be positive (ms)"};
  }
  return OkStatus();
}

}  // namespace

json FullValue(const Completion& c) {
  return c.value_text.empty() ? c.value : json::parse(c.value_text, nullptr, false);
}

Result<std::unique_ptr<Client>> MakeClient(const std::string& adapter, const ClientOptions& opts) {
  if (Status st = CheckOptions(adapter, opts); !st.ok()) return st.error();
  if (adapter == "etcd-v3") {
    auto poster = CurlPoster::Create();
    if (!poster.ok()) return poster.error();
    return etcd_v3::NewClient(opts, std::move(poster).value());
  }
  // Kept-alive raw connections: never a re-send (raw_http.h), a fraction of libcurl's CPU.
  return std::unique_ptr<Client>(std::make_unique<BlockingClient>(
      std::make_unique<TidelogStepped>(opts), std::make_unique<RawHttpPoster>()));
}

bool HasSteppedClient(const std::string& adapter) { return adapter == "tidelog-http"; }

Result<std::unique_ptr<SteppedClient>> MakeSteppedClient(const std::string& adapter,
                                                         const ClientOptions& opts) {
  if (Status st = CheckOptions(adapter, opts); !st.ok()) return st.error();
  if (!HasSteppedClient(adapter)) {
    return Error{"client adapter '" + adapter + "' has no stepped form (only tidelog-http)"};
  }
  return std::unique_ptr<SteppedClient>(std::make_unique<TidelogStepped>(opts));
}

namespace {

class TidelogStatusClient : public StatusClient {
 public:
  TidelogStatusClient(int timeout_ms, std::unique_ptr<HttpPoster> poster)
      : timeout_ms_(timeout_ms), poster_(std::move(poster)) {}

  Result<NodeStatus> Status(const std::string& base_url) override {
    return Ask(base_url, "{}", timeout_ms_);
  }

  Result<NodeStatus> WaitForChange(const std::string& base_url, const NodeStatus& known,
                                   int wait_ms) override {
    json body = {{"wait_ms", wait_ms},
                 {"generation", known.generation},
                 {"role", known.role},
                 {"leader", known.leader ? json(*known.leader) : json(nullptr)}};
    return Ask(base_url, body.dump(), wait_ms + timeout_ms_);
  }

 private:
  Result<NodeStatus> Ask(const std::string& base_url, const std::string& body, int timeout_ms) {
    th::HttpOutcome out =
        poster_->Post(base_url + "/v1/status", body, timeout_ms, std::min(timeout_ms, timeout_ms_));
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
