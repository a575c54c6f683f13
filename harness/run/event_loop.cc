#include "harness/run/event_loop.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <curl/curl.h>  // CURLcode values only (raw_http.h's table)

namespace tidemark::run {
namespace {

using targets::HttpOutcome;
using ReplyParser = targets::http1::ReplyParser;

}  // namespace

Result<std::unique_ptr<EventLoop>> EventLoop::Create(int slots, const ClientFactory& make_client,
                                                     Options opts) {
  const int epfd = epoll_create1(EPOLL_CLOEXEC);
  if (epfd < 0) return Error{std::string("epoll_create1: ") + std::strerror(errno)};
  std::unique_ptr<EventLoop> loop(new EventLoop(epfd, opts));
  for (int i = 0; i < slots; ++i) {
    auto s = std::make_unique<Slot>();
    s->client = make_client(i);
    loop->slots_.push_back(std::move(s));
  }
  return loop;
}

EventLoop::~EventLoop() {
  Stop();
  ::close(epfd_);
}

void EventLoop::Stop() {
  for (auto& s : slots_) {
    for (auto& c : s->conns) {
      if (c->fd < 0) continue;
      epoll_ctl(epfd_, EPOLL_CTL_DEL, c->fd, nullptr);  // see CloseConn
      ::close(c->fd);
    }
    s->conns.clear();
    s->conn = nullptr;
    s->channel = nullptr;
    s->phase = Phase::kFree;
  }
  for (auto& [channel, c] : channels_) {
    if (c->fd >= 0) epoll_ctl(epfd_, EPOLL_CTL_DEL, c->fd, nullptr);  // the channel owns the fd
  }
  channels_.clear();
  graveyard_.clear();
  queued_.clear();
  done_.clear();
  outstanding_ = 0;
}

void EventLoop::Dispatch(int slot, Job job) {
  Slot& s = *slots_[static_cast<size_t>(slot)];
  s.job = std::move(job);
  s.phase = Phase::kQueued;
  queued_.push_back(slot);
  ++outstanding_;
}

std::vector<Done> EventLoop::WaitCompletions(Clock::time_point until) {
  for (int slot : queued_) Begin(slot);
  queued_.clear();
  // A channel may have answered while ops were being sent (a client program that crashed).
  for (auto& [channel, c] : channels_) PollWaiting(channel);
  epoll_event events[64];
  while (done_.empty()) {
    auto now = Clock::now();
    auto next = until;
    for (const auto& s : slots_) {
      if (s->phase == Phase::kConnecting) next = std::min(next, s->connect_deadline);
      if (s->phase >= Phase::kConnecting) next = std::min(next, s->deadline);
    }
    if (now >= next) {
      Expire(now);
      if (now >= until) break;
      continue;
    }
    const auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(next - now).count();
    timespec ts{static_cast<time_t>(left / 1'000'000'000), static_cast<long>(left % 1'000'000'000)};
    const int n = epoll_pwait2(epfd_, events, 64, &ts, nullptr);
    if (n < 0) {
      if (errno == EINTR) break;  // a signal (SIGINT): let the driver look
      break;                      // EBADF/EINVAL cannot happen with our own epoll fd
    }
    ++waits_;
    // Idle connections that spoke are closed first: handling a reply can start the slot's next
    // call, which must not pick an idle connection whose EOF is further down this batch.
    for (int i = 0; i < n; ++i) {
      auto* c = static_cast<Conn*>(events[i].data.ptr);
      if (c->fd >= 0 && !c->busy && !c->channel)
        CloseConn(*slots_[static_cast<size_t>(c->slot)], c);
    }
    for (int i = 0; i < n; ++i) OnEvent(static_cast<Conn*>(events[i].data.ptr), events[i].events);
    graveyard_.clear();  // connections closed during this batch: no event refers to them now
    Expire(Clock::now());
  }
  std::vector<Done> out = std::move(done_);
  done_.clear();
  outstanding_ -= static_cast<int>(out.size());
  return out;
}

void EventLoop::Begin(int slot) {
  Slot& s = *slots_[static_cast<size_t>(slot)];
  Apply(slot, s.client->Begin(s.job.op, s.job.node_name, s.job.url));
}

void EventLoop::Apply(int slot, targets::SteppedClient::Step step) {
  Slot& s = *slots_[static_cast<size_t>(slot)];
  if (step.call) {
    StartCall(slot, *step.call);
    return;
  }
  if (step.wait) {
    StartWait(slot, step.wait, step.wait_ms);
    return;
  }
  s.phase = Phase::kFree;
  done_.push_back(Done{slot, std::move(s.job), std::move(step.done)});
}

void EventLoop::StartWait(int slot, targets::Channel* channel, int wait_ms) {
  Slot& s = *slots_[static_cast<size_t>(slot)];
  s.phase = Phase::kWaiting;
  s.channel = channel;
  s.sent_any = true;  // the op went out: a timeout is ambiguous
  s.deadline = Clock::now() + std::chrono::milliseconds(wait_ms);
  WatchChannel(channel);
}

EventLoop::Conn* EventLoop::WatchChannel(targets::Channel* channel) {
  auto it = channels_.find(channel);
  if (it == channels_.end()) {
    auto c = std::make_unique<Conn>();
    c->slot = -1;
    c->busy = true;
    c->channel = channel;
    it = channels_.emplace(channel, std::move(c)).first;
  }
  SyncChannel(it->second.get());
  return it->second.get();
}

void EventLoop::SyncChannel(Conn* c) {
  const int64_t epoch = c->channel->fd_epoch();
  if (epoch == c->epoch) return;
  const int fd = c->channel->fd();
  c->epoch = epoch;
  // The old fd, if any, was closed by the channel: its registration went with it (or goes once
  // a child forked meanwhile has exec'd; stray events then find the channel with nothing to
  // read). Registrations are per open file, so the new fd may even reuse the number.
  c->fd = fd;
  if (fd < 0) return;
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLRDHUP;
  ev.data.ptr = c;
  epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev);
}

void EventLoop::OnChannel(Conn* c) {
  c->channel->OnReadable();
  SyncChannel(c);
  PollWaiting(c->channel);
}

void EventLoop::PollWaiting(targets::Channel* channel) {
  for (size_t i = 0; i < slots_.size(); ++i) {
    Slot& s = *slots_[i];
    if (s.phase != Phase::kWaiting || s.channel != channel) continue;
    std::optional<targets::SteppedClient::Step> step = s.client->Poll();
    if (!step) continue;
    s.phase = Phase::kFree;
    s.channel = nullptr;
    Apply(static_cast<int>(i), std::move(*step));
  }
}

void EventLoop::StartCall(int slot, const targets::HttpCall& call) {
  Slot& s = *slots_[static_cast<size_t>(slot)];
  auto u = urls_.find(call.url);
  if (u == urls_.end()) {
    // A raw call's "tcp://host:port" is split like the http URL it would be.
    const bool tcp = call.reply_length && call.url.rfind("tcp://", 0) == 0;
    auto parsed = targets::http1::ParseUrl(tcp ? "http://" + call.url.substr(6) : call.url);
    if (!parsed) {
      s.sent_any = false;
      Fail(slot, CURLE_UNSUPPORTED_PROTOCOL, 0);
      return;
    }
    u = urls_.emplace(call.url, std::move(*parsed)).first;
  }
  const auto now = Clock::now();
  s.raw_length = call.reply_length;
  s.raw_in.clear();
  s.out = s.raw_length ? call.body : targets::http1::FormatPost(u->second, call.body);
  s.out_off = 0;
  s.sent_any = false;
  s.parser = ReplyParser();
  s.deadline = now + std::chrono::milliseconds(call.timeout_ms);
  s.connect_deadline =
      now + std::chrono::milliseconds(std::min(call.timeout_ms, call.connect_timeout_ms));

  if (Conn* idle = TakeIdle(s, u->second.authority)) {
    idle->busy = true;
    s.conn = idle;
    s.phase = Phase::kSending;
    TrySend(s, slot);
    return;
  }
  const std::string& authority = u->second.authority;
  auto addr = resolved_.find(authority);
  if (addr == resolved_.end()) {
    auto bytes = targets::http1::Resolve(u->second);
    if (!bytes) {
      Fail(slot, CURLE_COULDNT_RESOLVE_HOST, 0);
      return;
    }
    addr = resolved_.emplace(authority, std::move(*bytes)).first;
  }
  const auto* sa = reinterpret_cast<const sockaddr*>(addr->second.data());
  const int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    Fail(slot, CURLE_COULDNT_CONNECT, errno);
    return;
  }
  ++connections_opened_;
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  auto conn = std::make_unique<Conn>();
  conn->fd = fd;
  conn->slot = slot;
  conn->authority = authority;
  conn->busy = true;
  s.conn = conn.get();
  s.conns.push_back(std::move(conn));
  const bool connected = connect(fd, sa, static_cast<socklen_t>(addr->second.size())) == 0;
  const int err = connected ? 0 : errno;
  if (!connected && err != EINPROGRESS) {
    Fail(slot, CURLE_COULDNT_CONNECT, err);
    return;
  }
  if (!Watch(s.conn, !connected, /*add=*/true)) {
    Fail(slot, CURLE_COULDNT_CONNECT, errno);
    return;
  }
  if (!connected) {
    s.phase = Phase::kConnecting;
    return;
  }
  s.phase = Phase::kSending;
  TrySend(s, slot);
}

void EventLoop::TrySend(Slot& s, int slot) {
  while (s.out_off < s.out.size()) {
    const ssize_t n =
        send(s.conn->fd, s.out.data() + s.out_off, s.out.size() - s.out_off, MSG_NOSIGNAL);
    if (n > 0) {
      s.sent_any = true;
      s.out_off += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!s.conn->want_out) Watch(s.conn, true, /*add=*/false);
      s.phase = Phase::kSending;
      return;
    }
    Fail(slot, CURLE_SEND_ERROR, n < 0 ? errno : 0);
    return;
  }
  if (s.conn->want_out) Watch(s.conn, false, /*add=*/false);
  s.phase = Phase::kReceiving;
}

void EventLoop::OnEvent(Conn* c, uint32_t events) {
  if (c->channel) {
    OnChannel(c);
    return;
  }
  if (c->fd < 0) return;  // closed earlier in this batch
  Slot& s = *slots_[static_cast<size_t>(c->slot)];
  if (!c->busy) {  // an idle connection spoke: EOF, an error or stray bytes. Never reuse it.
    CloseConn(s, c);
    return;
  }
  const int slot = c->slot;
  switch (s.phase) {
    case Phase::kConnecting:
      if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) {
        int err = 0;
        socklen_t len = sizeof err;
        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
        if (err != 0) {
          Fail(slot, CURLE_COULDNT_CONNECT, err);
          return;
        }
        s.phase = Phase::kSending;
        TrySend(s, slot);
      }
      return;
    case Phase::kSending:
      // A reply (or EOF) before the request was all written: read it; the connection is not
      // reused after that.
      if (events & (EPOLLIN | EPOLLRDHUP)) {
        OnReadable(s, slot);
      } else if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) {
        TrySend(s, slot);
      }
      return;
    case Phase::kReceiving:
      OnReadable(s, slot);
      return;
    case Phase::kFree:
    case Phase::kQueued:
    case Phase::kWaiting:
      return;
  }
}

void EventLoop::OnReadable(Slot& s, int slot) {
  // One recv per readiness report: level-triggered epoll reports the rest of a long reply again.
  char buf[65536];
  const ssize_t n = recv(s.conn->fd, buf, sizeof buf, 0);
  if (s.raw_length && n >= 0) {
    OnRawBytes(s, slot, buf, n);
    return;
  }
  if (n > 0) {
    s.parser.Append(buf, static_cast<size_t>(n));
  } else if (n == 0) {
    s.parser.SetEof();
  } else if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) {
    return;
  } else {
    Fail(slot, CURLE_RECV_ERROR, errno);
    return;
  }
  switch (s.parser.Parse()) {
    case ReplyParser::State::kNeedMore:
      return;
    case ReplyParser::State::kError:
      Fail(slot, s.parser.error(), 0);
      return;
    case ReplyParser::State::kDone: {
      HttpOutcome out;
      out.request_sent = true;
      out.http_status = s.parser.status();
      out.body = s.parser.TakeBody();
      const bool keep = s.parser.keep_alive() && s.phase == Phase::kReceiving;
      Finish(slot, std::move(out), keep);
      return;
    }
  }
}

void EventLoop::OnRawBytes(Slot& s, int slot, const char* data, ssize_t n) {
  if (n == 0) {
    Fail(slot, s.raw_in.empty() ? CURLE_GOT_NOTHING : CURLE_RECV_ERROR, 0);
    return;
  }
  s.raw_in.append(data, static_cast<size_t>(n));
  if (s.raw_in.size() > targets::http1::kMaxBody) {
    Fail(slot, CURLE_WRITE_ERROR, 0);
    return;
  }
  const int64_t length = s.raw_length(s.raw_in);
  if (length == 0) return;
  if (length < 0 || static_cast<size_t>(length) > s.raw_in.size()) {
    Fail(slot, CURLE_WEIRD_SERVER_REPLY, 0);
    return;
  }
  HttpOutcome out;
  out.request_sent = true;
  // Bytes beyond the reply, or a reply before the request was all written: not reusable.
  const bool keep = static_cast<size_t>(length) == s.raw_in.size() && s.phase == Phase::kReceiving;
  s.raw_in.resize(static_cast<size_t>(length));
  out.body = std::move(s.raw_in);
  s.raw_in.clear();
  Finish(slot, std::move(out), keep);
}

void EventLoop::Expire(Clock::time_point now) {
  for (size_t i = 0; i < slots_.size(); ++i) {
    Slot& s = *slots_[i];
    const bool connect_expired = s.phase == Phase::kConnecting && now >= s.connect_deadline;
    if (s.phase >= Phase::kConnecting && (connect_expired || now >= s.deadline))
      Fail(static_cast<int>(i), CURLE_OPERATION_TIMEDOUT, 0);
  }
}

void EventLoop::Fail(int slot, int curl_code, int os_errno) {
  Slot& s = *slots_[static_cast<size_t>(slot)];
  HttpOutcome out;
  out.curl_code = curl_code;
  out.request_sent = s.sent_any;
  out.os_errno = os_errno;
  Finish(slot, std::move(out), /*keep_conn=*/false);
}

void EventLoop::Finish(int slot, HttpOutcome out, bool keep_conn) {
  Slot& s = *slots_[static_cast<size_t>(slot)];
  if (Conn* c = s.conn) {
    s.conn = nullptr;
    if (keep_conn && opts_.max_idle_connections > 0) {
      c->busy = false;
      c->idle_since = Clock::now();
      c->idle_wait = waits_;
      if (c->want_out) Watch(c, false, /*add=*/false);
    } else {
      CloseConn(s, c);
    }
  }
  s.phase = Phase::kFree;
  s.channel = nullptr;
  s.out.clear();
  Apply(slot, s.client->Continue(std::move(out)));
}

EventLoop::Conn* EventLoop::TakeIdle(Slot& s, const std::string& authority) {
  const auto now = Clock::now();
  Conn* found = nullptr;
  size_t idle = 0;
  // Newest first; close what is too old, and what is beyond the idle limit.
  for (size_t i = s.conns.size(); i-- > 0;) {
    Conn* c = s.conns[i].get();
    if (c->busy) continue;
    const auto age = now - c->idle_since;
    if (age > std::chrono::milliseconds(opts_.max_idle_ms) || ++idle > opts_.max_idle_connections) {
      CloseConn(s, c);
      continue;
    }
    if (found || c->authority != authority) continue;
    // Trusted to epoll only when epoll has looked at it since its reply: a connection that went
    // idle after the last wait (the driver dispatches the next op at once) has not been looked
    // at, and its server may have closed it already.
    if (c->idle_wait == waits_ || age > std::chrono::milliseconds(opts_.peek_after_ms)) {
      // Still open with nothing to read: EAGAIN. EOF (0), stray bytes (> 0) or an error: drop.
      char byte;
      const ssize_t n = recv(c->fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
      if (!(n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))) {
        CloseConn(s, c);
        continue;
      }
    }
    found = c;
  }
  return found;
}

void EventLoop::CloseConn(Slot& s, Conn* c) {
  // Leave the epoll set explicitly: close() alone removes the registration only once every
  // descriptor of the socket is closed, and a child the supervisor is forking holds copies
  // until its exec. Events for this Conn would then keep coming after it is freed (a
  // kill-all scenario that restarts nodes while connections drop crashed the controller so).
  epoll_ctl(epfd_, EPOLL_CTL_DEL, c->fd, nullptr);
  ::close(c->fd);
  c->fd = -1;
  if (s.conn == c) s.conn = nullptr;
  for (auto it = s.conns.begin(); it != s.conns.end(); ++it) {
    if (it->get() != c) continue;
    graveyard_.push_back(std::move(*it));  // freed after the current batch of events
    s.conns.erase(it);
    break;
  }
}

bool EventLoop::Watch(Conn* c, bool want_out, bool add) {
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLRDHUP | (want_out ? EPOLLOUT : 0u);
  ev.data.ptr = c;
  c->want_out = want_out;
  return epoll_ctl(epfd_, add ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, c->fd, &ev) == 0;
}

}  // namespace tidemark::run
