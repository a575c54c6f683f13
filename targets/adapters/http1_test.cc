#include "targets/adapters/http1.h"

#include <curl/curl.h>
#include <gtest/gtest.h>

namespace tidemark::targets::http1 {
namespace {

struct Parsed {
  ReplyParser::State state = ReplyParser::State::kNeedMore;
  long status = 0;
  std::string body;
  bool keep = false;
  int error = 0;
};

// Feeds `reply` in pieces of `step` bytes, then EOF if `eof`, parsing after every piece.
Parsed Feed(const std::string& reply, size_t step, bool eof) {
  ReplyParser p;
  ReplyParser::State s = ReplyParser::State::kNeedMore;
  for (size_t at = 0; at < reply.size() && s == ReplyParser::State::kNeedMore; at += step) {
    p.Append(reply.data() + at, std::min(step, reply.size() - at));
    s = p.Parse();
  }
  if (s == ReplyParser::State::kNeedMore && eof) {
    p.SetEof();
    s = p.Parse();
  }
  Parsed r;
  r.state = s;
  if (s == ReplyParser::State::kDone) {
    r.status = p.status();
    r.body = p.TakeBody();
    r.keep = p.keep_alive();
  }
  r.error = p.error();
  return r;
}

TEST(ReplyParserTest, EveryFramingParsesTheSameWhateverTheReadSizes) {
  struct Case {
    const char* name;
    std::string reply;
    bool eof;  // the server closes after the reply
    long status;
    std::string body;
    bool keep;
  };
  const std::vector<Case> cases = {
      {"length", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", false, 200, "hello", true},
      {"length, close", "HTTP/1.1 409 Conflict\r\ncontent-length: 2\r\nConnection: close\r\n\r\n{}",
       false, 409, "{}", false},
      {"chunked",
       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n2\r\nde\r\n0\r\nT: "
       "1\r\n\r\n",
       false, 200, "abcde", true},
      {"until eof", "HTTP/1.1 200 OK\r\n\r\nall of it", true, 200, "all of it", false},
      {"1xx first",
       "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\nx", false,
       201, "x", true},
      {"http/1.0", "HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx", false, 200, "x", false},
      {"http/1.0 keep-alive",
       "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\nx", false, 200, "x",
       true},
      {"204", "HTTP/1.1 204 No Content\r\n\r\n", false, 204, "", true},
  };
  for (const Case& c : cases) {
    for (size_t step : {size_t{1}, size_t{3}, size_t{7}, c.reply.size()}) {
      SCOPED_TRACE(std::string(c.name) + ", step " + std::to_string(step));
      Parsed p = Feed(c.reply, step, c.eof);
      ASSERT_EQ(p.state, ReplyParser::State::kDone) << "error " << p.error;
      EXPECT_EQ(p.status, c.status);
      EXPECT_EQ(p.body, c.body);
      EXPECT_EQ(p.keep, c.keep);
    }
  }
}

TEST(ReplyParserTest, BytesBeyondTheReplyForbidReuse) {
  Parsed p = Feed("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nxHTTP/1.1", 1000, false);
  ASSERT_EQ(p.state, ReplyParser::State::kDone);
  EXPECT_EQ(p.body, "x");
  EXPECT_FALSE(p.keep);
}

TEST(ReplyParserTest, TruncatedOrMalformedRepliesAreTheirCurlErrors) {
  struct Case {
    std::string reply;
    int error;
  };
  const std::vector<Case> cases = {
      {"", CURLE_GOT_NOTHING},
      {"HTTP/1.1 200 OK\r\nContent-Le", CURLE_RECV_ERROR},
      {"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel", CURLE_RECV_ERROR},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", CURLE_RECV_ERROR},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabXX0\r\n\r\n",
       CURLE_WEIRD_SERVER_REPLY},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", CURLE_WEIRD_SERVER_REPLY},
      {"SMTP ready\r\n\r\n", CURLE_WEIRD_SERVER_REPLY},
      {"HTTP/1.1 2x0 OK\r\n\r\n", CURLE_WEIRD_SERVER_REPLY},
      {"HTTP/1.1 200 OK\r\nNoColon\r\n\r\n", CURLE_WEIRD_SERVER_REPLY},
      {"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nx",
       CURLE_WEIRD_SERVER_REPLY},
      {"HTTP/1.1 200 OK\r\nContent-Length: 999999999999\r\n\r\n", CURLE_WRITE_ERROR},
  };
  for (const Case& c : cases) {
    for (size_t step : {size_t{1}, size_t{1000}}) {
      SCOPED_TRACE(c.reply + ", step " + std::to_string(step));
      Parsed p = Feed(c.reply, step, true);
      ASSERT_EQ(p.state, ReplyParser::State::kError);
      EXPECT_EQ(p.error, c.error);
    }
  }
}

TEST(ReplyParserTest, AnOversizedHeadIsRejectedWithoutWaitingForItsEnd) {
  ReplyParser p;
  const std::string junk(kMaxHeader + 10, 'a');
  p.Append(junk.data(), junk.size());
  EXPECT_EQ(p.Parse(), ReplyParser::State::kError);
  EXPECT_EQ(p.error(), CURLE_WEIRD_SERVER_REPLY);
}

TEST(UrlTest, SplitsHostPortAndPath) {
  auto u = ParseUrl("http://127.0.0.1:7001/v1/log/read");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, "7001");
  EXPECT_EQ(u->authority, "127.0.0.1:7001");
  EXPECT_EQ(u->path, "/v1/log/read");
  auto v6 = ParseUrl("http://[::1]:80");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->path, "/");
  EXPECT_FALSE(ParseUrl("https://x/"));
  EXPECT_FALSE(ParseUrl("http://x:99999999/"));
  EXPECT_FALSE(ParseUrl("http://:80/"));
  EXPECT_EQ(FormatPost(*u, "{}"),
            "POST /v1/log/read HTTP/1.1\r\nHost: 127.0.0.1:7001\r\nContent-Type: "
            "application/json\r\nContent-Length: 2\r\n\r\n{}");
}

}  // namespace
}  // namespace tidemark::targets::http1
