#include "nemesis/net.h"

#include <unistd.h>

#include "nemesis/netns.h"
#include "nemesis/proxy.h"
#include "nemesis/sys.h"

namespace tidemark::nemesis {

Result<NetKind> ParseNetKind(std::string_view s) {
  if (s == "auto") return NetKind::kAuto;
  if (s == "netns") return NetKind::kNetns;
  if (s == "proxy") return NetKind::kProxy;
  return Error{"--net '" + std::string(s) + "': expected auto, netns or proxy"};
}

bool NetnsAvailable(std::string* why_not) {
  auto no = [&](const std::string& why) {
    if (why_not) *why_not = why;
    return false;
  };
  if (geteuid() != 0) return no("not running as root (the netns backend needs CAP_NET_ADMIN)");
  if (FindExecutable("ip").empty()) return no("`ip` (iproute2) not found");
  if (FindExecutable("nft").empty()) return no("`nft` (nftables) not found");
  return true;
}

Result<NetKind> ResolveNetKind(NetKind requested) {
  std::string why;
  switch (requested) {
    case NetKind::kProxy:
      return NetKind::kProxy;
    case NetKind::kNetns:
      if (!NetnsAvailable(&why)) return Error{"--net netns is not available: " + why};
      return NetKind::kNetns;
    case NetKind::kAuto:
      return NetnsAvailable() ? NetKind::kNetns : NetKind::kProxy;
  }
  return NetKind::kProxy;
}

Result<std::unique_ptr<NetBackend>> MakeNetBackend(NetKind kind, const NetOptions& opts) {
  auto resolved = ResolveNetKind(kind);
  if (!resolved.ok()) return resolved.error();
  if (*resolved == NetKind::kNetns) return MakeNetnsBackend(opts);
  return MakeProxyBackend(opts);
}

}  // namespace tidemark::nemesis
