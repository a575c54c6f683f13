// Test helpers: building op histories by hand (tests only).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/history/history.h"

namespace tidemark::checkers::testing {

// Appends ops with explicit call/return times; ids and event indices are assigned densely.
class OpsBuilder {
 public:
  // status kOk/kFail/kInfo; ret is ignored for kInfo.
  OpsBuilder& Add(int64_t process, const std::string& f, nlohmann::json in, nlohmann::json out,
                  history::EventType status, int64_t call, int64_t ret,
                  std::optional<std::string> key = std::nullopt) {
    history::Op op;
    op.id = static_cast<int64_t>(ops_.size());
    op.process = process;
    op.f = f;
    op.key = std::move(key);
    op.invoke_value = std::move(in);
    op.value = status == history::EventType::kOk ? std::move(out) : op.invoke_value;
    op.status = status;
    op.call_ns = call;
    op.return_ns = status == history::EventType::kInfo ? history::kNever : ret;
    op.invoke_index = call;
    op.complete_index = status == history::EventType::kInfo ? -1 : ret;
    ops_.push_back(std::move(op));
    return *this;
  }
  OpsBuilder& Ok(int64_t p, const std::string& f, nlohmann::json in, nlohmann::json out,
                 int64_t call, int64_t ret, std::optional<std::string> key = std::nullopt) {
    return Add(p, f, std::move(in), std::move(out), history::EventType::kOk, call, ret, key);
  }
  OpsBuilder& Info(int64_t p, const std::string& f, nlohmann::json in, int64_t call,
                   std::optional<std::string> key = std::nullopt) {
    return Add(p, f, in, nullptr, history::EventType::kInfo, call, 0, key);
  }
  OpsBuilder& Fail(int64_t p, const std::string& f, nlohmann::json in, int64_t call, int64_t ret,
                   std::optional<std::string> key = std::nullopt) {
    return Add(p, f, in, nullptr, history::EventType::kFail, call, ret, key);
  }
  const std::vector<history::Op>& ops() const { return ops_; }

 private:
  std::vector<history::Op> ops_;
};

}  // namespace tidemark::checkers::testing
