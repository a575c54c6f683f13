#include "nemesis/netns.h"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <cstdio>
#include <mutex>

#include "nemesis/clean.h"
#include "nemesis/sys.h"

namespace tidemark::nemesis {
namespace {

uint64_t Fnv(std::string_view s) {
  uint64_t h = 0xCBF29CE484222325ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001B3ULL;
  }
  return h;
}

class NetnsBackend : public NetBackend {
 public:
  explicit NetnsBackend(const NetOptions& o) : opts_(o), id_(NetnsShortId(o.run_id)) {
    bridge_ = "tm" + id_ + "br";
    ChooseSubnet();
    for (int i = 1; i <= o.nodes; ++i) {
      ns_.push_back("tm" + id_ + "-n" + std::to_string(i));
      host_veth_.push_back("tm" + id_ + "v" + std::to_string(i));
      ns_veth_.push_back("tm" + id_ + "p" + std::to_string(i));
    }
  }
  ~NetnsBackend() override { Teardown(); }

  std::string Name() const override { return "netns"; }

  std::function<std::string(int)> HostOf() const override {
    std::string prefix = prefix_;
    return [prefix](int node) { return prefix + std::to_string(node + 2); };
  }

  Status Prepare(const NetCluster& cluster) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (prepared_) return Error{"netns: Prepare called twice"};
    if (static_cast<int>(cluster.nodes.size()) != opts_.nodes)
      return Error{"netns: the cluster has " + std::to_string(cluster.nodes.size()) +
                   " nodes, the backend was made for " + std::to_string(opts_.nodes)};
    prepared_ = true;  // from here on Teardown has something to do
    Status s = DoPrepare();
    if (!s.ok()) TeardownLocked();
    return s;
  }

  std::function<std::function<bool()>(int)> InChild() const override {
    std::vector<int> fds = fds_;
    return [fds](int node) -> std::function<bool()> {
      int fd = fds.at(static_cast<size_t>(node));
      return [fd] { return setns(fd, CLONE_NEWNET) == 0; };
    };
  }

  Status Apply(const Grudge& g) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (!prepared_) return Error{"netns: Apply before Prepare (or after Teardown)"};
    Status first = OkStatus();
    for (int b = 0; b < opts_.nodes; ++b) {
      std::string script = "flush chain inet tidemark input\n";
      auto it = g.find(b);
      if (it != g.end() && !it->second.empty()) {
        std::string set;
        for (int a : it->second) {
          if (a < 0 || a >= opts_.nodes) continue;
          set += (set.empty() ? "" : ", ") + prefix_ + std::to_string(a + 2);
        }
        script += "add rule inet tidemark input ip saddr { " + set +
                  " } ct direction original counter drop\n";
      }
      Status s = Nft(b, script);
      if (!s.ok() && first.ok()) first = s;
    }
    return first;
  }

  Status Heal() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!prepared_) return OkStatus();
    }
    return Apply({});
  }

  void Teardown() override {
    std::lock_guard<std::mutex> lock(mu_);
    TeardownLocked();
  }

  nlohmann::json Describe() const override {
    return {{"backend", "netns"},
            {"subnet", prefix_ + "0/24"},
            {"bridge", bridge_},
            {"controller", prefix_ + "1"},
            {"namespaces", ns_}};
  }

 private:
  void ChooseSubnet() {
    uint64_t h = Fnv(opts_.run_id);
    // Addresses already routed here (other runs, the host's own networks) are skipped.
    std::string routes;
    if (auto r = RunCommand({"ip", "-4", "route", "show", "table", "all"}); r.ok()) routes = r->out;
    for (int attempt = 0; attempt < 256; ++attempt) {
      uint64_t x = (h >> 8) + static_cast<uint64_t>(attempt) * 7919;
      int b1 = 100 + static_cast<int>(x % 150);
      int b2 = static_cast<int>((x / 150) % 256);
      prefix_ = "10." + std::to_string(b1) + "." + std::to_string(b2) + ".";
      if (routes.find(prefix_) == std::string::npos) return;
    }
  }

  Status Ip(std::vector<std::string> args) {
    args.insert(args.begin(), "ip");
    return RunOk(args);
  }
  Status Nft(int node, const std::string& script) {
    return RunOk({"ip", "netns", "exec", ns_[static_cast<size_t>(node)], "nft", "-f", "-"}, script);
  }

  Status DoPrepare() {
    // Refuse to adopt names that exist already (a leftover of a crashed run with the same id).
    for (const auto& ns : ns_)
      if (access(("/run/netns/" + ns).c_str(), F_OK) == 0)
        return Error{"netns: namespace " + ns +
                     " exists already (a leftover? run `tidemark "
                     "clean`)"};
    if (access(("/sys/class/net/" + bridge_).c_str(), F_OK) == 0)
      return Error{"netns: interface " + bridge_ +
                   " exists already (a leftover? run `tidemark "
                   "clean`)"};
    if (opts_.registry) (void)opts_.registry->AddLink(bridge_);
    if (Status s = Ip({"link", "add", bridge_, "type", "bridge"}); !s.ok()) return s;
    bridge_made_ = true;
    if (Status s = Ip({"addr", "add", prefix_ + "1/24", "dev", bridge_}); !s.ok()) return s;
    if (Status s = Ip({"link", "set", bridge_, "up"}); !s.ok()) return s;
    for (int i = 0; i < opts_.nodes; ++i) {
      const std::string& ns = ns_[static_cast<size_t>(i)];
      const std::string& hv = host_veth_[static_cast<size_t>(i)];
      const std::string& nv = ns_veth_[static_cast<size_t>(i)];
      if (opts_.registry) (void)opts_.registry->AddNamespace(ns);
      if (Status s = Ip({"netns", "add", ns}); !s.ok()) return s;
      made_ns_.push_back(ns);
      if (opts_.registry) (void)opts_.registry->AddLink(hv);
      if (Status s = Ip({"link", "add", hv, "type", "veth", "peer", "name", nv, "netns", ns});
          !s.ok())
        return s;
      made_veth_.push_back(hv);
      if (Status s = Ip({"link", "set", hv, "master", bridge_, "up"}); !s.ok()) return s;
      if (Status s =
              Ip({"-n", ns, "addr", "add", prefix_ + std::to_string(i + 2) + "/24", "dev", nv});
          !s.ok())
        return s;
      if (Status s = Ip({"-n", ns, "link", "set", nv, "up"}); !s.ok()) return s;
      if (Status s = Ip({"-n", ns, "link", "set", "lo", "up"}); !s.ok()) return s;
      // The `track` chain's only job is to switch connection tracking on in this namespace
      // now, before any node connects: the drop rules match `ct direction original`, and a
      // connection that conntrack first sees mid-stream (because tracking began with the first
      // drop rule) gets its direction from whichever packet comes first. A leader's long-lived
      // peer connection could then be taken for the follower's and pass the cut (seen: an
      // isolated leader kept its quorum through four partitions). Heal flushes only `input`.
      if (Status s = Nft(i,
                         "table inet tidemark {\n"
                         "  chain track { type filter hook prerouting priority -300; "
                         "policy accept; ct state new counter; }\n"
                         "  chain input { type filter hook input priority 0; policy accept; }\n"
                         "}\n");
          !s.ok())
        return s;
      int fd = open(("/run/netns/" + ns).c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) return Error{"netns: cannot open /run/netns/" + ns};
      fds_.push_back(fd);
    }
    return OkStatus();
  }

  void TeardownLocked() {
    if (!prepared_) return;
    for (int fd : fds_) close(fd);
    fds_.clear();
    // Deleting a namespace destroys its veth end, and with it the host end.
    for (const auto& ns : made_ns_) {
      Status s = Ip({"netns", "del", ns});
      if (!s.ok())
        std::fprintf(stderr, "tidemark: netns teardown: %s\n", s.error().message.c_str());
      if (opts_.registry) (void)opts_.registry->RemoveNamespace(ns);
    }
    made_ns_.clear();
    for (const auto& v : host_veth_) {
      (void)RunCommand({"ip", "link", "del", v});  // usually gone with its namespace already
      if (opts_.registry) (void)opts_.registry->RemoveLink(v);
    }
    made_veth_.clear();
    if (bridge_made_) {
      Status s = Ip({"link", "del", bridge_});
      if (!s.ok())
        std::fprintf(stderr, "tidemark: netns teardown: %s\n", s.error().message.c_str());
      bridge_made_ = false;
    }
    if (opts_.registry) (void)opts_.registry->RemoveLink(bridge_);
    prepared_ = false;
  }

  NetOptions opts_;
  std::string id_;
  std::string prefix_;  // "10.X.Y."
  std::string bridge_;
  std::vector<std::string> ns_, host_veth_, ns_veth_;
  std::mutex mu_;
  bool prepared_ = false;
  bool bridge_made_ = false;
  std::vector<std::string> made_ns_, made_veth_;
  std::vector<int> fds_;
};

}  // namespace

std::string NetnsShortId(const std::string& run_id) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%06llx",
                static_cast<unsigned long long>(Fnv(run_id) & 0xFFFFFFULL));
  return buf;
}

std::unique_ptr<NetBackend> MakeNetnsBackend(const NetOptions& opts) {
  return std::make_unique<NetnsBackend>(opts);
}

}  // namespace tidemark::nemesis
