// The harness-overhead baseline (bench/harness_overhead.sh): C threads POST log appends to one
// tidelog node as fast as it answers, with nothing of the harness around them (no generator,
// recorder, history or checker), and print "requests/s  CPU us/request" of this process.
//
// Usage: http_loop --url http://127.0.0.1:PORT [--client raw|curl] [--concurrency C]
//                  [--seconds S]
// raw: RawHttpPoster (kept-alive connections, the tidelog-http adapter's transport);
// curl: CurlPoster (libcurl, a fresh connection per request, as before).
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "targets/adapters/curl_post.h"
#include "targets/adapters/raw_http.h"

namespace {

double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  std::string url;
  std::string client = "raw";
  int concurrency = 1;
  double seconds = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--url") {
      url = argv[i + 1];
    } else if (a == "--client") {
      client = argv[i + 1];
    } else if (a == "--concurrency") {
      concurrency = std::atoi(argv[i + 1]);
    } else if (a == "--seconds") {
      seconds = std::atof(argv[i + 1]);
    } else {
      std::fprintf(stderr, "http_loop: unknown option %s\n", a.c_str());
      return 254;
    }
  }
  if (url.empty() || concurrency <= 0 || seconds <= 0 || (client != "raw" && client != "curl")) {
    std::fprintf(stderr,
                 "usage: http_loop --url URL [--client raw|curl] [--concurrency C] "
                 "[--seconds S]\n");
    return 254;
  }
  std::atomic<int64_t> ok{0};
  std::atomic<int64_t> failed{0};
  const auto until = std::chrono::steady_clock::now() +
                     std::chrono::milliseconds(static_cast<int64_t>(seconds * 1e3));
  const double cpu0 = CpuSeconds();
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < concurrency; ++t) {
    threads.emplace_back([&, t] {
      std::unique_ptr<tidemark::targets::HttpPoster> poster;
      if (client == "raw") {
        poster = std::make_unique<tidemark::targets::RawHttpPoster>();
      } else {
        auto p = tidemark::targets::CurlPoster::Create();
        if (!p.ok()) return;
        poster = std::move(p).value();
      }
      const std::string id = "bench-" + std::to_string(getpid()) + "-" + std::to_string(t);
      for (int64_t seq = 1; std::chrono::steady_clock::now() < until; ++seq) {
        const std::string body = "{\"value\":\"b" + std::to_string(t) + "-" + std::to_string(seq) +
                                 "\",\"client_id\":\"" + id + "\",\"seq\":" + std::to_string(seq) +
                                 "}";
        auto out = poster->Post(url + "/v1/log/append", body, 5000, 1000);
        (out.curl_code == 0 && out.http_status == 200 ? ok : failed)++;
      }
    });
  }
  for (auto& th : threads) th.join();
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double cpu = CpuSeconds() - cpu0;
  const int64_t n = ok + failed;
  std::printf("%8.0f %8.1f%s\n", static_cast<double>(n) / wall,
              n > 0 ? cpu * 1e6 / static_cast<double>(n) : 0.0,
              failed > 0 ? ("  (" + std::to_string(failed.load()) + " failed)").c_str() : "");
  return 0;
}
