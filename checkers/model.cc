// Register, cas-register, kv and multi-key models (the log model is in log_model.cc).
#include "checkers/model.h"

#include <map>

namespace tidemark::checkers {

std::unique_ptr<Model> MakeLogModel();  // log_model.cc

namespace {

using history::EventType;
using history::Op;

Error OpError(const Op& op, const std::string& what) {
  return Error{"op " + std::to_string(op.id) + " (event " + std::to_string(op.invoke_index) +
               ", f '" + op.f + "'): " + what};
}

// register / cas-register: the state is the JSON text of the value ("null" when unset).
class RegisterModel : public Model {
 public:
  enum Code { kRead, kWrite, kCas };
  explicit RegisterModel(bool cas) : cas_(cas) {}

  std::string_view Name() const override { return cas_ ? "cas-register" : "register"; }
  std::string Init() const override { return "null"; }

  Status Prepare(const std::vector<const Op*>& ops, std::vector<ModelOp>* out,
                 std::vector<char>* keep) const override {
    out->assign(ops.size(), ModelOp{});
    keep->assign(ops.size(), 1);
    for (size_t i = 0; i < ops.size(); ++i) {
      const Op& op = *ops[i];
      ModelOp& m = (*out)[i];
      m.ok = op.status == EventType::kOk;
      if (op.f == "read") {
        m.code = kRead;
        if (!m.ok) {
          (*keep)[i] = 0;  // a crashed read constrains nothing
          continue;
        }
        m.observer = true;
        m.a = op.value.dump();
      } else if (op.f == "write") {
        m.code = kWrite;
        m.a = op.invoke_value.dump();
      } else if (op.f == "cas" && cas_) {
        const nlohmann::json& v = op.invoke_value;
        if (!v.is_array() || v.size() != 2) return OpError(op, "cas value is not [from, to]");
        m.code = kCas;
        m.a = v[0].dump();
        m.b = v[1].dump();
      } else {
        return OpError(op, "not an op of the " + std::string(Name()) + " model");
      }
    }
    return OkStatus();
  }

  bool Step(const std::string& state, const ModelOp& op, std::string* next) const override {
    switch (op.code) {
      case kRead:
        if (op.a != state) return false;
        *next = state;
        return true;
      case kWrite:
        *next = op.a;
        return true;
      case kCas:
        if (op.a != state) return false;
        *next = op.b;
        return true;
    }
    return false;
  }

  std::string DescribeState(const std::string& state) const override {
    return state == "null" ? "nil (unset)" : state;
  }

  std::string CouldReturn(const std::string& state, const ModelOp& op) const override {
    if (op.code == kRead) return "a read here would return " + DescribeState(state);
    if (op.code == kCas) return "a cas here needs from = " + DescribeState(state);
    return "";
  }

 private:
  bool cas_;
};

// kv (Porcupine's kv corpus), one key: the state is the key's string, "" when unset.
class KvModel : public Model {
 public:
  enum Code { kGet, kPut, kAppend };
  std::string_view Name() const override { return "kv"; }
  std::string Init() const override { return ""; }

  Status Prepare(const std::vector<const Op*>& ops, std::vector<ModelOp>* out,
                 std::vector<char>* keep) const override {
    out->assign(ops.size(), ModelOp{});
    keep->assign(ops.size(), 1);
    auto str = [](const nlohmann::json& j) {
      return j.is_string() ? j.get<std::string>() : j.is_null() ? std::string() : j.dump();
    };
    for (size_t i = 0; i < ops.size(); ++i) {
      const Op& op = *ops[i];
      ModelOp& m = (*out)[i];
      m.ok = op.status == EventType::kOk;
      if (op.f == "get" || op.f == "read") {
        m.code = kGet;
        if (!m.ok) {
          (*keep)[i] = 0;
          continue;
        }
        m.observer = true;
        m.a = str(op.value);
      } else if (op.f == "put" || op.f == "write") {
        m.code = kPut;
        m.a = str(op.invoke_value);
      } else if (op.f == "append") {
        m.code = kAppend;
        m.a = str(op.invoke_value);
      } else {
        return OpError(op, "not an op of the kv model (get/put/append)");
      }
    }
    return OkStatus();
  }

  bool Step(const std::string& state, const ModelOp& op, std::string* next) const override {
    switch (op.code) {
      case kGet:
        if (op.a != state) return false;
        *next = state;
        return true;
      case kPut:
        *next = op.a;
        return true;
      case kAppend:
        *next = state + op.a;
        return true;
    }
    return false;
  }

  std::string DescribeState(const std::string& state) const override {
    return nlohmann::json(state).dump();
  }

  std::string CouldReturn(const std::string& state, const ModelOp& op) const override {
    if (op.code == kGet) return "a get here would return " + DescribeState(state);
    return "";
  }
};

// Several keys in one state: for each key (in first-seen order of Prepare) a length-prefixed
// substate. Keys missing from the state are at the inner model's initial state.
class MultiKeyModel : public Model {
 public:
  explicit MultiKeyModel(std::unique_ptr<Model> inner) : inner_(std::move(inner)) {}
  std::string_view Name() const override { return inner_->Name(); }
  std::string Init() const override { return ""; }

  Status Prepare(const std::vector<const Op*>& ops, std::vector<ModelOp>* out,
                 std::vector<char>* keep) const override {
    out->assign(ops.size(), ModelOp{});
    keep->assign(ops.size(), 1);
    std::map<std::string, std::vector<size_t>> by_key;
    for (size_t i = 0; i < ops.size(); ++i) by_key[ops[i]->key.value_or("")].push_back(i);
    for (const auto& [key, idx] : by_key) {
      std::vector<const Op*> sub;
      for (size_t i : idx) sub.push_back(ops[i]);
      std::vector<ModelOp> sub_out;
      std::vector<char> sub_keep;
      Status st = inner_->Prepare(sub, &sub_out, &sub_keep);
      if (!st.ok()) return st;
      for (size_t j = 0; j < idx.size(); ++j) {
        (*out)[idx[j]] = std::move(sub_out[j]);
        (*out)[idx[j]].key = key;
        (*keep)[idx[j]] = sub_keep[j];
      }
    }
    return OkStatus();
  }

  bool Step(const std::string& state, const ModelOp& op, std::string* next) const override {
    std::map<std::string, std::string> m = Decode(state);
    auto it = m.find(op.key);
    std::string sub = it == m.end() ? inner_->Init() : it->second;
    std::string sub_next;
    if (!inner_->Step(sub, op, &sub_next)) return false;
    m[op.key] = std::move(sub_next);
    *next = Encode(m);
    return true;
  }

  std::string DescribeState(const std::string& state) const override {
    std::string s = "{";
    for (const auto& [k, v] : Decode(state)) {
      if (s.size() > 1) s += ", ";
      s += k + ": " + inner_->DescribeState(v);
    }
    return s + "}";
  }

  std::string CouldReturn(const std::string& state, const ModelOp& op) const override {
    std::map<std::string, std::string> m = Decode(state);
    auto it = m.find(op.key);
    return inner_->CouldReturn(it == m.end() ? inner_->Init() : it->second, op);
  }

 private:
  static void Put(std::string* s, const std::string& v) {
    s->append(std::to_string(v.size()));
    s->push_back(':');
    s->append(v);
  }
  static std::string Encode(const std::map<std::string, std::string>& m) {
    std::string s;
    for (const auto& [k, v] : m) {
      Put(&s, k);
      Put(&s, v);
    }
    return s;
  }
  static std::map<std::string, std::string> Decode(const std::string& s) {
    std::map<std::string, std::string> m;
    size_t i = 0;
    auto take = [&]() {
      size_t colon = s.find(':', i);
      size_t n = std::stoull(s.substr(i, colon - i));
      std::string v = s.substr(colon + 1, n);
      i = colon + 1 + n;
      return v;
    };
    while (i < s.size()) {
      std::string k = take();
      m[k] = take();
    }
    return m;
  }
  std::unique_ptr<Model> inner_;
};

}  // namespace

std::unique_ptr<Model> MakeModel(std::string_view name) {
  if (name == "register") return std::make_unique<RegisterModel>(false);
  if (name == "cas-register") return std::make_unique<RegisterModel>(true);
  if (name == "kv" || name == "kv-append") return std::make_unique<KvModel>();
  if (name == "log") return MakeLogModel();
  return nullptr;
}

std::unique_ptr<Model> MakeMultiKeyModel(std::unique_ptr<Model> inner) {
  return std::make_unique<MultiKeyModel>(std::move(inner));
}

std::vector<std::string> ModelNames() { return {"register", "cas-register", "kv", "log"}; }

}  // namespace tidemark::checkers
