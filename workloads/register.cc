#include "workloads/register.h"

#include <algorithm>
#include <cstdlib>

namespace tidemark::workloads {
namespace {

std::optional<int64_t> ParseKey(const std::optional<std::string>& key) {
  if (!key || key->size() < 2 || (*key)[0] != 'k') return std::nullopt;
  char* end = nullptr;
  const long long v = std::strtoll(key->c_str() + 1, &end, 10);
  if (*end != '\0') return std::nullopt;
  return static_cast<int64_t>(v);
}

}  // namespace

RegisterGenerator::RegisterGenerator(RegisterOptions opts) : opts_(opts) {
  opts_.keys_in_flight = std::max(opts_.keys_in_flight, 1);
  opts_.ops_per_key = std::max<int64_t>(opts_.ops_per_key, 1);
  for (int i = 0; i < opts_.keys_in_flight; ++i) {
    active_.push_back(next_key_);
    keys_[next_key_] = KeyState{};
    ++next_key_;
  }
}

std::string RegisterGenerator::KeyName(int64_t k) { return "k" + std::to_string(k); }

std::vector<std::string> RegisterGenerator::ActiveKeys() const {
  std::vector<std::string> out;
  for (int64_t k : active_) out.push_back(KeyName(k));
  return out;
}

GenResult RegisterGenerator::Next(const GenContext& ctx, Rng& rng) {
  if (ctx.free_processes.empty()) return GenResult::Pending(kNever);
  OpRequest op;
  op.process = ctx.free_processes[rng.Uniform(ctx.free_processes.size())];
  const size_t slot = rng.Uniform(active_.size());
  const int64_t k = active_[slot];
  KeyState& st = keys_[k];
  op.key = KeyName(k);

  const double x = rng.Double();
  const double write_cut = opts_.read_fraction + (1 - opts_.read_fraction) / 2;
  if (x < opts_.read_fraction) {
    op.f = "read";
    op.value = nullptr;
  } else if (x < write_cut || st.last_written == 0) {
    // A cas needs a non-null `from` (docs/protocol.md), so an unwritten key gets a write.
    op.f = "write";
    op.value = ++st.last_written;
  } else {
    op.f = "cas";
    int64_t from = rng.UniformInt(1, st.last_written);
    if (st.known && *st.known > 0 && rng.Bernoulli(opts_.cas_from_known)) from = *st.known;
    op.value = nlohmann::json::array({from, ++st.last_written});
  }

  if (++st.ops >= opts_.ops_per_key) {
    keys_.erase(k);
    active_[slot] = next_key_;
    keys_[next_key_] = KeyState{};
    ++next_key_;
  }
  return GenResult::Op(std::move(op));
}

void RegisterGenerator::OnComplete(const history::Op& completed) {
  if (completed.status != history::EventType::kOk) return;
  const auto k = ParseKey(completed.key);
  if (!k) return;
  auto it = keys_.find(*k);
  if (it == keys_.end()) return;  // retired
  const nlohmann::json& v = completed.value;
  if (completed.f == "read" || completed.f == "write") {
    if (v.is_number_integer()) it->second.known = v.get<int64_t>();
  } else if (completed.f == "cas") {
    if (v.is_array() && v.size() == 2 && v[1].is_number_integer()) {
      it->second.known = v[1].get<int64_t>();
    }
  }
}

GenPtr RegisterFinalReads(const std::vector<std::string>& keys, int64_t attempts,
                          int64_t retry_interval_ns) {
  std::vector<GenPtr> reads;
  for (const std::string& key : keys) {
    reads.push_back(
        UntilOk(Limit(attempts, Stagger(retry_interval_ns, Repeat([key](const GenContext&, Rng&) {
                                          OpRequest op;
                                          op.f = "read";
                                          op.key = key;
                                          op.value = nullptr;
                                          return op;
                                        })))));
  }
  return All(std::move(reads));
}

}  // namespace tidemark::workloads
