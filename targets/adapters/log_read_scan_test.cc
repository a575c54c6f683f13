// ScanLogReadPage: table tests for the shapes it accepts and every way it refuses, every prefix of
// a valid body, and a differential test against nlohmann::json on random valid and mutated
// bodies (the same check as fuzz/log_read_scan_fuzzer.cc).
#include "targets/adapters/log_read_scan.h"
#include "targets/adapters/log_read_scan_oracle.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <random>

#include <nlohmann/json.hpp>

namespace tidemark::targets::tidelog_http {
namespace {

using nlohmann::json;

using oracle::Expected;
using oracle::Oracle;

// "" when `entries` is compact canonical text: no whitespace, '+' or "-0" outside strings.
std::string NotCompact(const std::string& entries) {
  for (size_t i = 0; i < entries.size(); ++i) {
    const char c = entries[i];
    if (c == '"') {
      for (++i; entries[i] != '"'; ++i) i += entries[i] == '\\' ? 1 : 0;
    } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '+') {
      return "stray byte at " + std::to_string(i);
    } else if (c == '-' && i + 1 < entries.size() && entries[i + 1] == '0') {
      return "-0 at " + std::to_string(i);
    }
  }
  return "";
}

// The differential property; returns "" when it holds, else what broke.
std::string Differential(std::string_view body) {
  const auto got = ScanLogReadPage(body);
  const auto want = Oracle(body);
  if (got) {
    if (!want) return "scanner accepts what nlohmann refuses";
    if (got->from != want->from || got->to != want->to || got->hwm != want->hwm)
      return "from/to/hwm differ";
    if (got->consistency != want->consistency) return "consistency differs";
    if (got->count != static_cast<int64_t>(want->entries.size())) return "count differs";
    const json entries = json::parse("[" + got->entries + "]", nullptr, false);
    if (entries.is_discarded()) return "entries text is not JSON: " + got->entries;
    if (entries != want->entries) return "entries differ: " + got->entries;
    if (auto why = NotCompact(got->entries); !why.empty()) return "entries not compact: " + why;
    return "";
  }
  if (!want) return "";
  // Deliberate difference: nlohmann ignores everything after a NUL that follows the value.
  if (auto nul = body.find('\0'); nul != std::string_view::npos) {
    if (ScanLogReadPage(body.substr(0, nul))) return "";
    return "refuses the part before the NUL that nlohmann accepts";
  }
  return "nlohmann accepts what the scanner refuses";
}

const std::string kValid = R"({"from":1000,"to":1002,"hwm":1140,"consistency":"linearizable",)"
                           R"("entries":[[1000,"v3-17"],[1001,"v12-18"]]})";

TEST(LogReadScanTest, ReadsTheDocumentedReply) {
  const auto page = ScanLogReadPage(kValid);
  ASSERT_TRUE(page);
  EXPECT_EQ(page->from, 1000);
  EXPECT_EQ(page->to, 1002);
  EXPECT_EQ(page->hwm, 1140);
  EXPECT_EQ(page->consistency, "linearizable");
  EXPECT_EQ(page->entries, R"([1000,"v3-17"],[1001,"v12-18"])");
  EXPECT_EQ(page->count, 2);
}

struct ValidCase {
  std::string name;
  std::string body;
  std::string entries;
  int64_t count;
  std::optional<std::string> consistency = std::nullopt;
  int64_t from = 1;
};

TEST(LogReadScanTest, AcceptsEveryValidShape) {
  const std::vector<ValidCase> cases = {
      {"key order", R"({"entries":[[1,"a"]],"hwm":3,"to":2,"from":1})", R"([1,"a"])", 1},
      {"protocol envelope",
       R"({"node":"n2","generation":3,"leader":"n1","hwm":300,"consistency":"local",)"
       R"("from":1,"to":300,"entries":[[0,"v1-1"],[2,"v3-4"]]})",
       R"([0,"v1-1"],[2,"v3-4"])", 2, "local"},
      {"unknown nested keys",
       R"({"x":{"a":[1,{"b":"}]\"\\"},[],{}],"c":null},"from":1,"y":[true,false,null,-1.5e-3,)"
       R"("[[",{"entries":5}],"to":2,"z":"\u00e9","hwm":3,"entries":[],"w":{}})",
       "", 0},
      {"whitespace everywhere",
       " \t\n\r{ \"from\" : 1 ,\n\"to\"\t:2,\"hwm\" :3 , \"entries\" : [ [ 1 , \"a b\" ] ,\n"
       "[2,\"c\"]\r] } \n\t",
       R"([1,"a b"],[2,"c"])", 2},
      {"escapes kept verbatim",
       R"({"from":1,"to":2,"hwm":3,"entries":[[1,"q\"b\\s\/\b\f\n\r\t\u00e9\ud83d\ude00\u0000"]]})",
       R"([1,"q\"b\\s\/\b\f\n\r\t\u00e9\ud83d\ude00\u0000"])", 1},
      {"raw utf-8",
       "{\"from\":1,\"to\":2,\"hwm\":3,\"entries\":[[1,"
       "\"\xC3\xA9\xF0\x9F\x98\x80\xE2\x82\xAC\x7F\"]]}",
       "[1,\"\xC3\xA9\xF0\x9F\x98\x80\xE2\x82\xAC\x7F\"]", 1},
      {"empty entries", R"({"from":1,"to":2,"hwm":3,"entries":[]})", "", 0},
      {"empty entries with space", R"({"from":1,"to":2,"hwm":3,"entries":[ ]})", "", 0},
      {"negative numbers",
       R"({"from":-5,"to":-1,"hwm":0,"entries":[[-1,""],[-9223372036854775808,"m"],)"
       R"([9223372036854775807,"M"]]})",
       R"([-1,""],[-9223372036854775808,"m"],[9223372036854775807,"M"])", 3, std::nullopt, -5},
      {"-0 is valid JSON and becomes 0", R"({"from":-0,"to":2,"hwm":3,"entries":[[-0,"a"]]})",
       R"([0,"a"])", 1, std::nullopt, 0},
      {"consistency not a string", R"({"from":1,"to":2,"hwm":3,"consistency":7,"entries":[]})", "",
       0},
      {"consistency escaped",
       R"({"from":1,"to":2,"hwm":3,"consistency":"loc\u0061l\u00e9","entries":[]})", "", 0,
       "local\xC3\xA9"},
      {"duplicate keys: last wins",
       R"({"from":"x","from":1,"to":2,"hwm":3,"entries":{"a":1},"entries":[[1,"b"]],)"
       R"("consistency":"local","consistency":"linearizable"})",
       R"([1,"b"])", 1, "linearizable"},
      {"duplicate key: a later non-string consistency removes it",
       R"({"from":1,"to":2,"hwm":3,"consistency":"local","consistency":null,"entries":[]})", "", 0},
      {"duplicate entries: the last valid one counts",
       R"({"from":1,"to":2,"hwm":3,"entries":[[1,"a"],[2,"b"]],"entries":[[3,"c"]]})", R"([3,"c"])",
       1},
      {"escaped key names", R"({"fr\u006fm":1,"t\u006f":2,"hwm":3,"\u0065ntries":[[1,"a"]]})",
       R"([1,"a"])", 1},
      {"utf-8 BOM", "\xEF\xBB\xBF{\"from\":1,\"to\":2,\"hwm\":3,\"entries\":[]}", "", 0},
      {"from above to", R"({"from":9,"to":2,"hwm":3,"entries":[]})", "", 0, std::nullopt, 9},
  };
  for (const ValidCase& c : cases) {
    SCOPED_TRACE(c.name);
    const auto page = ScanLogReadPage(c.body);
    ASSERT_TRUE(page) << c.body;
    EXPECT_EQ(page->entries, c.entries);
    EXPECT_EQ(page->count, c.count);
    EXPECT_EQ(page->consistency, c.consistency);
    EXPECT_EQ(page->from, c.from);
    EXPECT_EQ(Differential(c.body), "");
    // nlohmann reads the same thing, so the table is right about what is valid.
    EXPECT_TRUE(Oracle(c.body));
  }
}

TEST(LogReadScanTest, ReadsInt64Limits) {
  const auto page = ScanLogReadPage(
      R"({"from":-9223372036854775808,"to":9223372036854775807,"hwm":0,"entries":[]})");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->from, std::numeric_limits<int64_t>::min());
  EXPECT_EQ(page->to, std::numeric_limits<int64_t>::max());
}

struct RejectCase {
  std::string name;
  std::string body;
  // Oracle() accepts it: a deliberate difference (log_read_scan.h). uint64 above INT64_MAX is
  // not one here because Oracle() already counts it as out of shape.
  bool nlohmann_accepts = false;
};

std::string With(const std::string& member) {
  return R"({"from":1,"to":2,"hwm":3,)" + member + "}";
}
std::string Entries(const std::string& elements) { return With(R"("entries":[)" + elements + "]"); }

TEST(LogReadScanTest, RefusesEveryMalformedReply) {
  const std::vector<RejectCase> cases = {
      {"empty", ""},
      {"whitespace only", " \n"},
      {"empty object", "{}"},
      {"array", "[]"},
      {"number", "1"},
      {"string", R"("from")"},
      {"missing from", R"({"to":2,"hwm":3,"entries":[]})"},
      {"missing to", R"({"from":1,"hwm":3,"entries":[]})"},
      {"missing hwm", R"({"from":1,"to":2,"entries":[]})"},
      {"missing entries", R"({"from":1,"to":2,"hwm":3})"},
      {"from string", R"({"from":"1","to":2,"hwm":3,"entries":[]})"},
      {"from float", R"({"from":1.0,"to":2,"hwm":3,"entries":[]})"},
      {"from exponent", R"({"from":1e3,"to":2,"hwm":3,"entries":[]})"},
      {"from null", R"({"from":null,"to":2,"hwm":3,"entries":[]})"},
      {"to bool", R"({"from":1,"to":true,"hwm":3,"entries":[]})"},
      {"hwm array", R"({"from":1,"to":2,"hwm":[3],"entries":[]})"},
      {"from above int64 (uint64 in nlohmann)",
       R"({"from":9223372036854775808,"to":2,"hwm":3,"entries":[]})"},
      {"hwm above uint64", R"({"from":1,"to":2,"hwm":18446744073709551616,"entries":[]})"},
      {"to below int64", R"({"from":1,"to":-9223372036854775809,"hwm":3,"entries":[]})"},
      {"entries object", With(R"("entries":{})")},
      {"entries string", With(R"("entries":"[]")")},
      {"entries null", With(R"("entries":null)")},
      {"entry not an array", Entries("1")},
      {"entry empty", Entries("[]")},
      {"entry of one", Entries("[1]")},
      {"entry of three", Entries(R"([1,"a","b"])")},
      {"entry offset string", Entries(R"(["1","a"])")},
      {"entry offset float", Entries(R"([1.5,"a"])")},
      {"entry offset 1.0", Entries(R"([1.0,"a"])")},
      {"entry offset 1e3", Entries(R"([1e3,"a"])")},
      {"entry offset above int64", Entries(R"([9223372036854775808,"a"])")},
      {"entry offset above uint64", Entries(R"([99999999999999999999,"a"])")},
      {"entry value number", Entries("[1,2]")},
      {"entry value null", Entries("[1,null]")},
      {"entry value array", Entries(R"([1,["a"]])")},
      {"second entry bad", Entries(R"([1,"a"],[2])")},
      {"trailing comma in entries", Entries(R"([1,"a"],)")},
      {"trailing comma in entry", Entries(R"([1,"a",])")},
      {"leading comma in entries", Entries(R"(,[1,"a"])")},
      {"missing comma in entry", Entries(R"([1 "a"])")},
      {"last duplicate entries bad", With(R"("entries":[[1,"a"]],"entries":"x")")},
      {"last duplicate from bad", R"({"from":1,"from":"1","to":2,"hwm":3,"entries":[]})"},
      {"trailing garbage", With(R"("entries":[])") + "x"},
      {"second object", With(R"("entries":[])") + "{}"},
      {"trailing comma after object", With(R"("entries":[])") + ","},
      {"trailing NUL", With(R"("entries":[])") + std::string(1, '\0'), true},
      {"NUL then garbage", With(R"("entries":[])") + std::string("\0junk", 5), true},
      {"vertical tab is not whitespace", With(R"("entries":[])") + "\v"},
      {"trailing comma in object", With(R"("entries":[],)")},
      {"missing colon", R"({"from" 1,"to":2,"hwm":3,"entries":[]})"},
      {"unquoted key", R"({from:1,"to":2,"hwm":3,"entries":[]})"},
      {"single quotes", R"({'from':1,"to":2,"hwm":3,"entries":[]})"},
      {"comment", R"({"from":1,/*c*/"to":2,"hwm":3,"entries":[]})"},
      {"plus sign", R"({"from":+1,"to":2,"hwm":3,"entries":[]})"},
      {"leading zero", R"({"from":01,"to":2,"hwm":3,"entries":[]})"},
      {"negative leading zero", Entries(R"([-01,"a"])")},
      {"bare minus", R"({"from":-,"to":2,"hwm":3,"entries":[]})"},
      {"dot without digits", R"({"from":1,"to":2,"hwm":3,"x":1.,"entries":[]})"},
      {"leading dot", R"({"from":1,"to":2,"hwm":3,"x":.5,"entries":[]})"},
      {"exponent without digits", R"({"from":1,"to":2,"hwm":3,"x":1e+,"entries":[]})"},
      {"bad literal", R"({"from":1,"to":2,"hwm":3,"x":tru,"entries":[]})"},
      {"NaN", R"({"from":1,"to":2,"hwm":3,"x":NaN,"entries":[]})"},
      {"unknown escape", Entries(R"([1,"\x"])")},
      {"short \\u", Entries(R"([1,"\u12"])")},
      {"bad hex", Entries(R"([1,"\u12G4"])")},
      {"lone high surrogate", Entries(R"([1,"\ud83d"])")},
      {"high surrogate then letter", Entries(R"([1,"\ud83dx"])")},
      {"high surrogate then non-low", Entries(R"([1,"\ud83d\u0041"])")},
      {"lone low surrogate", Entries(R"([1,"\ude00"])")},
      {"bad escape in unknown key value", With(R"("x":"\q","entries":[])")},
      {"bad escape in key", With(R"("\q":1,"entries":[])")},
      {"bad escape in consistency", With(R"("consistency":"\u00","entries":[])")},
      {"raw newline in string", Entries("[1,\"a\nb\"]")},
      {"raw tab in string", Entries("[1,\"a\tb\"]")},
      {"raw NUL in string", Entries(std::string("[1,\"a\0b\"]", 8))},
      {"raw control char in key", With("\"a\x01\":1,\"entries\":[]")},
      {"overlong utf-8", Entries("[1,\"\xC0\x80\"]")},
      {"encoded surrogate", Entries("[1,\"\xED\xA0\x80\"]")},
      {"above U+10FFFF", Entries("[1,\"\xF4\x90\x80\x80\"]")},
      {"0xFF byte", Entries("[1,\"\xFF\"]")},
      {"truncated sequence", Entries("[1,\"\xE2\x82\"]")},
      {"lone continuation byte", Entries("[1,\"\x80\"]")},
      {"utf-8 outside a string", With("\"entries\":[]\xC3\xA9")},
      {"unterminated string", R"({"from":1,"to":2,"hwm":3,"entries":[[1,"a]]})"},
      {"unbalanced unknown value", With(R"("x":[1,{"a":2]},"entries":[])")},
      {"partial BOM", "\xEF\xBB{\"from\":1,\"to\":2,\"hwm\":3,\"entries\":[]}"},
  };
  for (const RejectCase& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_FALSE(ScanLogReadPage(c.body)) << c.body;
    EXPECT_EQ(Oracle(c.body).has_value(), c.nlohmann_accepts) << c.body;
  }
}

TEST(LogReadScanTest, RefusesEveryProperPrefix) {
  const std::vector<std::string> bodies = {
      kValid,
      " { \"from\" : 1 , \"to\" : 2 , \"hwm\" : 3 , \"x\" : { \"y\" : [ 1.5e3 , true , null ] } , "
      "\"entries\" : [ [ -1 , \"\\u00e9\\ud83d\\ude00\xC3\xA9\" ] ] } ",
  };
  for (const std::string& body : bodies) {
    ASSERT_TRUE(ScanLogReadPage(body)) << body;
    // Trailing whitespace is allowed, so stop at the closing brace.
    const size_t complete = body.rfind('}') + 1;
    for (size_t n = 0; n < complete; ++n) {
      EXPECT_FALSE(ScanLogReadPage(std::string_view(body).substr(0, n))) << "prefix " << n;
    }
  }
}

TEST(LogReadScanTest, AppendPageJoinsEntries) {
  LogReadPage a = *ScanLogReadPage(R"({"from":0,"to":2,"hwm":9,"entries":[[0,"a"],[1,"b"]]})");
  AppendPage(a, *ScanLogReadPage(R"({"from":2,"to":4,"hwm":9,"entries":[]})"));
  EXPECT_EQ(a.entries, R"([0,"a"],[1,"b"])");
  AppendPage(a, *ScanLogReadPage(R"({"from":4,"to":6,"hwm":10,"entries":[[5,"c"]]})"));
  EXPECT_EQ(a.entries, R"([0,"a"],[1,"b"],[5,"c"])");
  EXPECT_EQ(a.count, 3);
  EXPECT_EQ(a.from, 0);
  EXPECT_EQ(a.to, 6);
  EXPECT_EQ(a.hwm, 10);

  LogReadPage empty = *ScanLogReadPage(R"({"from":0,"to":0,"hwm":0,"entries":[]})");
  AppendPage(empty, *ScanLogReadPage(R"({"from":0,"to":1,"hwm":1,"entries":[[0,"x"]]})"));
  EXPECT_EQ(empty.entries, R"([0,"x"])");
  EXPECT_EQ(empty.count, 1);
}

// Random bodies: valid replies with random whitespace, key order, unknown members, duplicates,
// escapes, UTF-8 and integer edge cases, then byte-level mutations of them.
class BodyGen {
 public:
  explicit BodyGen(uint64_t seed) : rng_(seed) {}

  std::string Valid() {
    std::vector<std::string> members = {Int("from"), Int("to"), Int("hwm"), EntriesMember()};
    if (Chance(3)) members.push_back(Q("consistency") + ":" + (Chance(4) ? Value(1) : Str()));
    for (int n = Below(3); n > 0; --n) members.push_back(Str() + ":" + Value(3));
    if (Chance(8)) members.push_back(Q(Pick({"from", "to", "hwm", "entries"})) + ":" + Value(2));
    std::shuffle(members.begin(), members.end(), rng_);
    std::string out = Ws() + "{" + Ws();
    for (size_t i = 0; i < members.size(); ++i) out += (i ? "," + Ws() : "") + members[i] + Ws();
    return out + "}" + Ws();
  }

  std::string Mutate(std::string s) {
    for (int n = 1 + Below(3); n > 0; --n) {
      const size_t at = s.empty() ? 0 : static_cast<size_t>(Below(static_cast<int>(s.size())));
      switch (Below(4)) {
        case 0:
          if (!s.empty()) s[at] = static_cast<char>(s[at] ^ (1 << Below(8)));
          break;
        case 1:
          if (!s.empty()) s.erase(at, 1 + static_cast<size_t>(Below(3)));
          break;
        case 2:
          s.insert(at, 1, static_cast<char>(Below(256)));
          break;
        default:
          s.insert(at, Pick({"{", "}", "[", "]", ",", ":", "\"", "\\", "-", "0", "e", ".", " ",
                             std::string(1, '\0'), "\\u", "\xC3", "1"}));
      }
    }
    return s;
  }

 private:
  int Below(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }
  bool Chance(int one_in) { return Below(one_in) == 0; }
  std::string Pick(std::vector<std::string> options) {
    return options[static_cast<size_t>(Below(static_cast<int>(options.size())))];
  }
  std::string Ws() {
    if (!Chance(4)) return "";
    return Pick({" ", "\n", "\t", "\r\n", "  "});
  }
  std::string Q(const std::string& raw) { return "\"" + raw + "\""; }
  std::string Number() {
    switch (Below(8)) {
      case 0:
        return Pick({"0", "-0", "-1", "9223372036854775807", "-9223372036854775808",
                     "9223372036854775808", "18446744073709551615", "18446744073709551616",
                     "-9223372036854775809"});
      case 1:
        return Pick({"1.5", "1e3", "-2E-2", "0.0", "1.0"});
      default:
        return std::to_string(static_cast<int64_t>(rng_() >> Below(64)) * (Chance(4) ? -1 : 1));
    }
  }
  std::string Int(const char* key) {
    return Q(key) + Ws() + ":" + Ws() + (Chance(20) ? Value(1) : Number());
  }
  std::string Str() {
    std::string s = "\"";
    for (int n = Below(8); n > 0; --n) {
      s += Pick({"a", "v3-17", " ", "\\\"", "\\\\", "\\/", "\\b\\f\\n\\r\\t", "\\u00e9", "\\u0000",
                 "\\ud83d\\ude00", "\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80", "\x7F", "}],"});
    }
    return s + "\"";
  }
  std::string Value(int depth) {
    const int kind = depth <= 0 ? Below(3) : Below(5);
    switch (kind) {
      case 0:
        return Number();
      case 1:
        return Str();
      case 2:
        return Pick({"true", "false", "null"});
      case 3: {
        std::string out = "[" + Ws();
        for (int n = Below(4); n > 0; --n) out += Value(depth - 1) + Ws() + (n > 1 ? "," : "");
        return out + "]";
      }
      default: {
        std::string out = "{" + Ws();
        for (int n = Below(3); n > 0; --n)
          out += Str() + Ws() + ":" + Ws() + Value(depth - 1) + Ws() + (n > 1 ? "," : "");
        return out + "}";
      }
    }
  }
  std::string EntriesMember() {
    std::string out = Q("entries") + Ws() + ":" + Ws() + "[" + Ws();
    const int n = Chance(6) ? 0 : Below(12);
    for (int i = 0; i < n; ++i) {
      std::string offset = Chance(10) ? Number() : std::to_string(1000 + i);
      std::string value = Chance(30) ? Value(1) : Str();
      out += (i ? "," + Ws() : "") + "[" + Ws() + offset + Ws() + "," + Ws() + value + Ws() + "]" +
             Ws();
    }
    return out + "]";
  }

  std::mt19937_64 rng_;
};

TEST(LogReadScanTest, AgreesWithNlohmannOnRandomBodies) {
  constexpr uint64_t kSeed = 20261122;
  BodyGen gen(kSeed);
  int accepted = 0;
  for (int i = 0; i < 2000; ++i) {
    std::string body = gen.Valid();
    if (i % 3 != 0) body = gen.Mutate(body);
    const std::string why = Differential(body);
    ASSERT_EQ(why, "") << "seed " << kSeed << " body " << i << ": "
                       << json(body).dump(-1, ' ', true, json::error_handler_t::replace);
    accepted += ScanLogReadPage(body) ? 1 : 0;
  }
  // Both sides of the property are exercised.
  EXPECT_GT(accepted, 300) << "seed " << kSeed;
  EXPECT_LT(accepted, 1900) << "seed " << kSeed;
}

}  // namespace
}  // namespace tidemark::targets::tidelog_http
