// tidelog: the reference replicated log of tidemark. See `tidelog --help` and docs/protocol.md.
#include <chrono>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <string>

#include "codec.h"
#include "consensus.h"
#include "server.h"
#include "wal.h"

namespace tl = tidemark::tidelog;

namespace {

const char* kUsage = R"(usage:
  tidelog --id ID --listen HOST:PORT --data-dir DIR [--peer ID=HOST:PORT]... [options]
  tidelog dump DATA_DIR
  tidelog --help

Runs one node of a tidelog cluster in the foreground (never daemonizes), logging to stderr.
One port (--listen) serves both the client API (docs/protocol.md) and peer RPCs.
A --peer address is where THIS node sends to that peer (a proxy may sit there).

options:
  --id ID                    this node's id (e.g. n1); must differ from every peer id
  --listen HOST:PORT         address to listen on (IPv4/IPv6 literal)
  --peer ID=HOST:PORT        another node of the cluster (repeatable)
  --data-dir DIR             where the WAL lives (created if absent)
  --election-timeout-ms A..B randomized election timeout range (default 300..600)
  --heartbeat-ms N           leader heartbeat interval (default 50)
  --commit-timeout-ms N      how long a write waits for commit before 504 (default 2000)
  --lazy-flush-ms N          flush interval of the lazy-fsync bug (default 300)
  --seed N                   seed of the election timer (default: from id and clock)
  --bug NAME                 switch on a deliberately unsafe behaviour (repeatable):
                             %BUGS%

`tidelog dump DATA_DIR` prints the node's WAL (hard state, HWM hint, every entry) as JSON
on stdout without modifying it. SIGTERM/SIGINT exit cleanly with status 0.
exit status: 0 clean stop, 2 bad usage or startup failure, 3 WAL I/O failure (dump: stdout).
)";

int Usage(const std::string& why) {
  std::cerr << "tidelog: " << why << "\n(see tidelog --help)\n";
  return 2;
}

bool ParseHostPort(const std::string& s, std::string* host, uint16_t* port) {
  auto colon = s.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  *host = s.substr(0, colon);
  if (host->size() > 2 && host->front() == '[' && host->back() == ']')
    *host = host->substr(1, host->size() - 2);
  char* end = nullptr;
  unsigned long p = std::strtoul(s.c_str() + colon + 1, &end, 10);
  if (*end != '\0' || p == 0 || p > 65535) return false;
  *port = static_cast<uint16_t>(p);
  return true;
}

bool ParseU64(const std::string& s, uint64_t* out) {
  if (s.empty()) return false;
  char* end = nullptr;
  unsigned long long v = std::strtoull(s.c_str(), &end, 10);
  if (*end != '\0') return false;
  *out = v;
  return true;
}

int Dump(const std::string& dir) {
  std::string error;
  auto st = tl::Wal::ReadOnly(dir, &error);
  if (!st) {
    std::cerr << "tidelog dump: " << error << "\n";
    return 2;
  }
  if (!tl::WriteDumpJson(*st, std::cout)) {
    std::cerr << "tidelog dump: cannot write stdout\n";
    return 3;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
    std::string u = kUsage, names;
    for (const auto& n : tl::Bugs::AllNames()) names += (names.empty() ? "" : ", ") + n;
    u.replace(u.find("%BUGS%"), 6, names);
    std::cout << u;
    return 0;
  }
  if (!args.empty() && args[0] == "dump") {
    if (args.size() != 2) return Usage("dump takes exactly one DATA_DIR");
    return Dump(args[1]);
  }
  tl::Config cfg;
  tl::ServerOptions opts;
  std::string data_dir, listen;
  uint64_t commit_timeout = 2000;
  bool have_seed = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](std::string* out) {
      if (i + 1 >= args.size()) return false;
      *out = args[++i];
      return true;
    };
    std::string v;
    if (a == "--id") {
      if (!value(&cfg.id) || cfg.id.empty()) return Usage("--id needs a value");
    } else if (a == "--listen") {
      if (!value(&listen) || !ParseHostPort(listen, &opts.listen_host, &opts.listen_port))
        return Usage("--listen needs HOST:PORT");
    } else if (a == "--peer") {
      std::string host;
      uint16_t port;
      auto eq = value(&v) ? v.find('=') : std::string::npos;
      if (eq == std::string::npos || eq == 0 || !ParseHostPort(v.substr(eq + 1), &host, &port))
        return Usage("--peer needs ID=HOST:PORT");
      std::string id = v.substr(0, eq);
      if (opts.peers.count(id)) return Usage("duplicate --peer " + id);
      opts.peers[id] = {host, port};
      cfg.peers.push_back(id);
    } else if (a == "--data-dir") {
      if (!value(&data_dir) || data_dir.empty()) return Usage("--data-dir needs a value");
    } else if (a == "--election-timeout-ms") {
      if (!value(&v)) return Usage("--election-timeout-ms needs MIN..MAX");
      auto dots = v.find("..");
      std::string lo = dots == std::string::npos ? v : v.substr(0, dots);
      std::string hi = dots == std::string::npos ? v : v.substr(dots + 2);
      if (!ParseU64(lo, &cfg.election_min_ms) || !ParseU64(hi, &cfg.election_max_ms) ||
          cfg.election_min_ms == 0 || cfg.election_min_ms > cfg.election_max_ms)
        return Usage("--election-timeout-ms needs MIN..MAX with 0 < MIN <= MAX");
    } else if (a == "--heartbeat-ms") {
      if (!value(&v) || !ParseU64(v, &cfg.heartbeat_ms) || cfg.heartbeat_ms == 0)
        return Usage("--heartbeat-ms needs a positive integer");
    } else if (a == "--commit-timeout-ms") {
      if (!value(&v) || !ParseU64(v, &commit_timeout) || commit_timeout == 0)
        return Usage("--commit-timeout-ms needs a positive integer");
    } else if (a == "--lazy-flush-ms") {
      if (!value(&v) || !ParseU64(v, &opts.lazy_flush_ms) || opts.lazy_flush_ms == 0)
        return Usage("--lazy-flush-ms needs a positive integer");
    } else if (a == "--seed") {
      if (!value(&v) || !ParseU64(v, &cfg.seed)) return Usage("--seed needs an integer");
      have_seed = true;
    } else if (a == "--bug") {
      if (!value(&v) || !cfg.bugs.Set(v)) return Usage("unknown --bug " + v);
    } else {
      return Usage("unknown argument " + a);
    }
  }
  if (cfg.id.empty() || listen.empty() || data_dir.empty())
    return Usage("--id, --listen and --data-dir are required");
  if (opts.peers.count(cfg.id)) return Usage("a --peer has this node's own id");
  if (cfg.heartbeat_ms >= cfg.election_min_ms)
    return Usage("--heartbeat-ms must be below the election timeout");
  if (!have_seed)
    cfg.seed = std::hash<std::string>{}(cfg.id) ^
               static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());

  tl::WalState st;
  std::string error;
  auto wal = tl::Wal::Open(data_dir, cfg.bugs.lazy_fsync, &st, &error, cfg.bugs.skip_fsync);
  if (!wal) {
    std::cerr << "tidelog: " << error << "\n";
    return 2;
  }
  std::cerr << "tidelog " << cfg.id << ": recovered generation " << st.hard_state.generation << ", "
            << st.log.size() << " entries, hwm hint " << st.hwm;
  for (const auto& b : cfg.bugs.Names()) std::cerr << ", BUG " << b;
  std::cerr << "\n";
  cfg.recovering = st.recovering;
  if (st.recovering)
    std::cerr << "tidelog " << cfg.id << ": the WAL was damaged (" << data_dir
              << "/recovering): not voting or standing for election until caught up\n";
  tl::Consensus core(cfg, st.hard_state, std::move(st.log), st.hwm, tl::NowMs());
  return tl::RunServer(opts, std::move(core), std::move(wal), commit_timeout);
}
