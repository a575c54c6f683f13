// Test helpers: small random histories of a register (read, write, cas) and of a kv store (get,
// put, append), made by applying each op to a real object at a random point inside its call,
// then sometimes lying about the result (tests only). Shared by the differential tests against
// brute-force oracles (lin_random_test.cc, lin_kv_random_test.cc) and the streamed analysis'
// tests (lin_stream_test.cc). Each history has 1-2 keys and a few processes; every time step
// (1, 2, ...) is one invoke or one completion.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "base/history/history.h"

namespace tidemark::checkers::testing {

// Random cas-register histories.
namespace reg {

using history::EventType;

enum F { kRead, kWrite, kCas };

struct GOp {
  int key = 0;
  F f = kRead;
  int a = 0, b = 0;  // write a; cas a -> b
  int result = -1;   // read result, -1 = nil
  EventType status = EventType::kOk;
  int64_t call = 0, ret = 0;
  int process = 0;
};

// A real register applied at a random point inside each op, then (sometimes) lied about.
// crash_heavy: a third of the ops crash (exercises the crashed-op subsumption of the search).
inline std::vector<GOp> Generate(std::mt19937_64& rng, bool crash_heavy = false) {
  auto rnd = [&](int n) { return static_cast<int>(rng() % static_cast<uint64_t>(n)); };
  const int procs = 2 + rnd(4), target = 3 + rnd(5), keys = 1 + rnd(2);
  std::vector<GOp> ops;
  std::vector<int> reg(2, -1);
  struct Pending {
    int op = -1;
    bool applied = false, cas_ok = false;
  };
  std::vector<Pending> pend(static_cast<size_t>(procs));
  std::vector<int> pid(static_cast<size_t>(procs));
  for (int p = 0; p < procs; ++p) pid[p] = p;
  int invoked = 0, next_pid = procs;
  for (int64_t t = 1;; ++t) {
    bool busy = false;
    for (auto& p : pend) busy = busy || p.op >= 0;
    if (!busy && invoked >= target) break;
    int p = rnd(procs);
    Pending& pe = pend[p];
    if (pe.op < 0) {
      if (invoked >= target) continue;
      GOp o;
      o.key = rnd(keys);
      o.f = static_cast<F>(rnd(3));
      o.a = rnd(3);
      o.b = rnd(3);
      o.call = t;
      o.process = pid[p];
      ops.push_back(o);
      pe = Pending{static_cast<int>(ops.size()) - 1, false, false};
      ++invoked;
      continue;
    }
    GOp& o = ops[pe.op];
    if (!pe.applied && rnd(10) < 6) {
      if (rnd(crash_heavy ? 6 : 10) == 0) {  // crash before taking effect
        o.status = EventType::kInfo;
        pe.op = -1;
        pid[p] = next_pid++;
        continue;
      }
      int& r = reg[o.key];
      if (o.f == kRead) o.result = r;
      if (o.f == kWrite) r = o.a;
      if (o.f == kCas) {
        pe.cas_ok = r == o.a;
        if (pe.cas_ok) r = o.b;
      }
      pe.applied = true;
      continue;
    }
    if (!pe.applied) continue;
    o.ret = t;
    o.status = o.f == kCas && !pe.cas_ok ? EventType::kFail : EventType::kOk;
    if (rnd(crash_heavy ? 4 : 8) == 0) o.status = EventType::kInfo;  // crash after effect
    if (o.f == kRead && rnd(7) == 0) o.result = rnd(4) - 1;          // a lie
    if (o.f == kCas && rnd(15) == 0) {
      o.status = o.status == EventType::kFail ? EventType::kOk : EventType::kFail;  // a lie
    }
    if (o.status == EventType::kInfo) pid[p] = next_pid++;
    pe.op = -1;
  }
  return ops;
}

}  // namespace reg

// Random kv histories.
namespace kv {

using history::EventType;

enum F { kGet, kPut, kAppend };

struct KOp {
  int key = 0;
  F f = kGet;
  std::string v;  // value put/appended, or the get's result
  EventType status = EventType::kOk;
  int64_t call = 0, ret = 0;
  int process = 0;
};

inline std::vector<KOp> Generate(std::mt19937_64& rng) {
  auto rnd = [&](int n) { return static_cast<int>(rng() % static_cast<uint64_t>(n)); };
  const int procs = 2 + rnd(4), target = 3 + rnd(6), keys = 1 + rnd(2);
  const bool tiny = rnd(2) == 0;
  std::vector<KOp> ops;
  std::vector<std::string> kv(2);
  struct Pending {
    int op = -1;
    bool applied = false;
  };
  std::vector<Pending> pend(static_cast<size_t>(procs));
  std::vector<int> pid(static_cast<size_t>(procs));
  for (int p = 0; p < procs; ++p) pid[p] = p;
  int invoked = 0, next_pid = procs, uniq = 0;
  auto value = [&]() {
    if (!tiny) return "<" + std::to_string(uniq++) + ">";
    std::string s(static_cast<size_t>(rnd(3)), 'a');  // "", "a", "aa", "ab", ...
    for (char& c : s) c = static_cast<char>('a' + rnd(2));
    return s;
  };
  for (int64_t t = 1;; ++t) {
    bool busy = false;
    for (auto& p : pend) busy = busy || p.op >= 0;
    if (!busy && invoked >= target) break;
    int p = rnd(procs);
    Pending& pe = pend[p];
    if (pe.op < 0) {
      if (invoked >= target) continue;
      KOp o;
      o.key = rnd(keys);
      int f = rnd(10);
      o.f = f < 4 ? kGet : f < 5 ? kPut : kAppend;
      if (o.f != kGet) o.v = value();
      o.call = t;
      o.process = pid[p];
      ops.push_back(o);
      pe = Pending{static_cast<int>(ops.size()) - 1, false};
      ++invoked;
      continue;
    }
    KOp& o = ops[pe.op];
    if (!pe.applied && rnd(10) < 6) {
      if (rnd(10) == 0) {  // crash before taking effect
        o.status = EventType::kInfo;
        pe.op = -1;
        pid[p] = next_pid++;
        continue;
      }
      std::string& r = kv[o.key];
      if (o.f == kGet) o.v = r;
      if (o.f == kPut) r = o.v;
      if (o.f == kAppend) r += o.v;
      pe.applied = true;
      continue;
    }
    if (!pe.applied) continue;
    o.ret = t;
    if (rnd(8) == 0) o.status = EventType::kInfo;  // crash after taking effect
    if (o.f == kGet && rnd(6) == 0) {              // a lie: drop or swap a piece
      if (o.v.size() >= 2 && rnd(2) == 0) {
        std::swap(o.v[0], o.v[o.v.size() - 1]);
      } else if (!o.v.empty()) {
        o.v.erase(static_cast<size_t>(rnd(static_cast<int>(o.v.size()))), 1);
      } else {
        o.v = "a";
      }
    }
    if (o.status == EventType::kInfo) pid[p] = next_pid++;
    pe.op = -1;
  }
  return ops;
}

}  // namespace kv

}  // namespace tidemark::checkers::testing
