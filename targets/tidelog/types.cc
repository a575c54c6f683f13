#include "types.h"

#include <utility>

namespace tidemark::tidelog {
namespace {
// One table keeps names, --help and Set() in step.
std::vector<std::pair<const char*, bool Bugs::*>> Table() {
  return {{"ack-before-quorum", &Bugs::ack_before_quorum},
          {"stale-leader-read", &Bugs::stale_leader_read},
          {"read-above-hwm", &Bugs::read_above_hwm},
          {"commit-old-generation", &Bugs::commit_old_generation},
          {"vote-without-log-check", &Bugs::vote_without_log_check},
          {"no-generation-fence", &Bugs::no_generation_fence},
          {"truncate-to-local-hwm", &Bugs::truncate_to_local_hwm},
          {"lazy-fsync", &Bugs::lazy_fsync},
          {"skip-fsync", &Bugs::skip_fsync},
          {"no-idempotency", &Bugs::no_idempotency}};
}
}  // namespace

bool Bugs::Set(const std::string& name) {
  for (auto& [n, member] : Table())
    if (name == n) {
      this->*member = true;
      return true;
    }
  return false;
}

std::vector<std::string> Bugs::Names() const {
  std::vector<std::string> out;
  for (auto& [n, member] : Table())
    if (this->*member) out.push_back(n);
  return out;
}

std::vector<std::string> Bugs::AllNames() {
  std::vector<std::string> out;
  for (auto& [n, member] : Table()) out.push_back(n);
  return out;
}

}  // namespace tidemark::tidelog
