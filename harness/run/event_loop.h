// EventLoop: every client slot on the driver's own thread, over non-blocking sockets and epoll.
//
// Why: with a thread per slot (Workers), each op cost three thread hand-offs (driver -> worker
// -> driver), and on this kind of machine each hand-off is a futex wake plus a context switch
// of about 10 us. Here the driver sends every request it dispatched, then sleeps in one
// epoll_pwait2 until replies, deadlines or `until`, and handles every ready reply in one pass:
// per op a send(2) and a recv(2), and one wake-up shared by all the replies that are ready.
//
// Each slot has a SteppedClient (targets/adapters/stepped.h) that says which POSTs an op needs
// (leader hops, idempotent re-sends and read pages are further steps) and keeps its own
// kept-alive connections, like one RawHttpPoster per slot, with the same guarantees
// (raw_http.h): a request is written once and never re-sent by the transport; a connection is
// reused only while it is younger than Options::max_idle_ms and epoll has reported nothing on
// it since its last reply (an idle connection that becomes readable — EOF, error, stray bytes —
// is closed at once, before any event of the same batch is handled); when epoll has not looked
// at it since its reply, or it has been idle for more than Options::peek_after_ms, a
// non-blocking peek must also show it open. Any failure closes it. Failures are the CURLcodes of
// raw_http.h, so one outcome mapping serves all transports. Timeouts: HttpCall::timeout_ms
// bounds each exchange, connect_timeout_ms its connect.
//
// Raw TCP calls (HttpCall::reply_length set, url "tcp://host:port") take the same path with the
// HTTP framing left out: the body is written as is and bytes are read until reply_length says
// the reply is whole; an EOF before that is CURLE_GOT_NOTHING (no byte) or CURLE_RECV_ERROR.
// An adapter that is not HTTP (the exec adapter's client program over pipes) returns a step
// that waits on its Channel (stepped.h): the loop watches the channel's fd in the same
// epoll_pwait2, calls OnReadable when it is readable, then Polls the clients waiting on it; a
// wait that outlives its wait_ms is a timeout, as an HTTP exchange's would be.
//
// Thread safety: the driver thread only (dispatcher.h).
#pragma once

#include <sys/socket.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "harness/run/dispatcher.h"
#include "targets/adapters/http1.h"
#include "targets/adapters/stepped.h"

namespace tidemark::run {

class EventLoop : public Dispatcher {
 public:
  struct Options {
    size_t max_idle_connections = 4;  // per slot
    int max_idle_ms = 2000;
    // An idle connection idle for longer than this (ms) is peeked at before reuse even when
    // epoll has looked at it since its last reply (a younger one is trusted to epoll).
    int peek_after_ms = 5;
  };
  using ClientFactory = std::function<std::unique_ptr<targets::SteppedClient>(int slot)>;

  // Errors: epoll could not be created (the message says why).
  static Result<std::unique_ptr<EventLoop>> Create(int slots, const ClientFactory& make_client,
                                                   Options opts);
  ~EventLoop() override;
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  void Dispatch(int slot, Job job) override;
  std::vector<Done> WaitCompletions(std::chrono::steady_clock::time_point until) override;
  int outstanding() const override { return outstanding_; }
  void Stop() override;

  // TCP connections opened so far (for tests and benchmarks).
  int64_t connections_opened() const { return connections_opened_; }

 private:
  using Clock = std::chrono::steady_clock;
  struct Conn {
    int fd = -1;
    int slot = 0;
    std::string authority;
    Clock::time_point idle_since;
    int64_t idle_wait = 0;  // waits_ when it went idle: epoll has looked at it once waits_ > this
    bool busy = false;      // carrying the slot's current exchange
    bool want_out = false;  // registered for EPOLLOUT too
    targets::Channel* channel = nullptr;  // set: this watches a channel's fd, not a socket
    int64_t epoch = -1;                   // the channel's fd_epoch() when fd was registered
  };
  // kWaiting: on a channel (after kReceiving, so that every phase >= kConnecting has a deadline).
  enum class Phase { kFree, kQueued, kConnecting, kSending, kReceiving, kWaiting };
  struct Slot {
    std::unique_ptr<targets::SteppedClient> client;
    Job job;
    Phase phase = Phase::kFree;
    std::vector<std::unique_ptr<Conn>> conns;  // open connections, idle or busy
    Conn* conn = nullptr;                      // the busy one
    std::string out;                           // request bytes
    size_t out_off = 0;
    bool sent_any = false;
    targets::http1::ReplyParser parser;
    std::function<int64_t(std::string_view)> raw_length;  // set: a raw TCP call
    std::string raw_in;                                   // its reply bytes so far
    Clock::time_point deadline;
    Clock::time_point connect_deadline;
    targets::Channel* channel = nullptr;  // kWaiting: the channel the op went out on
  };

  EventLoop(int epfd, Options opts) : epfd_(epfd), opts_(opts) {}
  void Begin(int slot);
  // The client's next step for `slot`: a call, a wait on a channel, or the completion.
  void Apply(int slot, targets::SteppedClient::Step step);
  void StartWait(int slot, targets::Channel* channel, int wait_ms);
  Conn* WatchChannel(targets::Channel* channel);
  void SyncChannel(Conn* c);                    // (re-)registers the channel's current fd
  void OnChannel(Conn* c);                      // its fd is readable
  void PollWaiting(targets::Channel* channel);  // completes the slots it has answered
  void StartCall(int slot, const targets::HttpCall& call);
  void TrySend(Slot& s, int slot);
  void OnReadable(Slot& s, int slot);
  // A raw call's bytes arrived (n > 0) or its connection ended (n == 0).
  void OnRawBytes(Slot& s, int slot, const char* data, ssize_t n);
  void OnEvent(Conn* c, uint32_t events);
  void Expire(Clock::time_point now);
  // The exchange ended with `out` (a reply or a failure): the next step, or the completion.
  void Finish(int slot, targets::HttpOutcome out, bool keep_conn);
  void Fail(int slot, int curl_code, int os_errno);
  Conn* TakeIdle(Slot& s, const std::string& authority);
  void CloseConn(Slot& s, Conn* c);
  bool Watch(Conn* c, bool want_out, bool add);  // false: epoll_ctl failed (errno)

  int epfd_;
  Options opts_;
  std::vector<std::unique_ptr<Slot>> slots_;
  std::map<targets::Channel*, std::unique_ptr<Conn>> channels_;  // watched channels
  std::vector<int> queued_;                       // slots dispatched and not yet begun
  std::vector<std::unique_ptr<Conn>> graveyard_;  // closed during the current batch of events
  std::vector<Done> done_;
  std::map<std::string, std::string> resolved_;      // authority -> sockaddr bytes
  std::map<std::string, targets::http1::Url> urls_;  // parsed URLs by text
  int outstanding_ = 0;
  int64_t connections_opened_ = 0;
  int64_t waits_ = 0;  // epoll waits that returned
};

}  // namespace tidemark::run
