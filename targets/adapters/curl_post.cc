#include "targets/adapters/curl_post.h"

#include <dlfcn.h>

#include <mutex>

#include <curl/curl.h>

namespace tidemark::targets {
namespace {

// Responses beyond this are cut off (a final read of a huge log pages long before that).
constexpr size_t kMaxBody = 256u << 20;

size_t OnData(char* data, size_t size, size_t n, void* user) {
  auto* out = static_cast<std::string*>(user);
  const size_t len = size * n;
  if (out->size() + len > kMaxBody) return 0;  // makes libcurl fail with CURLE_WRITE_ERROR
  out->append(data, len);
  return len;
}

// Runs right before libcurl sends the request on an established connection.
int OnPreRequest(void* user, char*, char*, int, int) {
  *static_cast<bool*>(user) = true;
  return CURL_PREREQFUNC_OK;
}

// libcurl is loaded with dlopen the first time a process needs it, not linked: it pulls in about
// thirty further shared libraries (TLS, Kerberos, LDAP, ...) whose loading and relocation cost
// every process several milliseconds, and most tidemark processes (`check`, `export`, `report`,
// the suite's planning) never make an HTTP call. docs/architecture.md "Start-up".
struct CurlApi {
  CURLcode (*global_init)(long flags);
  CURL* (*easy_init)();
  CURLcode (*easy_setopt)(CURL*, CURLoption, ...);
  CURLcode (*easy_perform)(CURL*);
  CURLcode (*easy_getinfo)(CURL*, CURLINFO, ...);
  void (*easy_reset)(CURL*);
  void (*easy_cleanup)(CURL*);
  const char* (*easy_strerror)(CURLcode);
  curl_slist* (*slist_append)(curl_slist*, const char*);
  void (*slist_free_all)(curl_slist*);
};

template <typename F>
bool Bind(void* lib, const char* name, F*& out) {
  out = reinterpret_cast<F*>(dlsym(lib, name));
  return out != nullptr;
}

// The loaded and initialised library, or why not. Thread-safe; loads once per process.
Result<const CurlApi*> Curl() {
  static std::once_flag once;
  static CurlApi api;
  static std::string error;
  std::call_once(once, [] {
    void* lib = dlopen(kLibcurlSoname, RTLD_NOW | RTLD_LOCAL);
    if (lib == nullptr) {
      const char* why = dlerror();
      error = std::string("cannot load ") + kLibcurlSoname + " (" + (why ? why : "?") +
              "); install Debian's libcurl4";
      return;
    }
    bool ok = Bind(lib, "curl_global_init", api.global_init) &&
              Bind(lib, "curl_easy_init", api.easy_init) &&
              Bind(lib, "curl_easy_setopt", api.easy_setopt) &&
              Bind(lib, "curl_easy_perform", api.easy_perform) &&
              Bind(lib, "curl_easy_getinfo", api.easy_getinfo) &&
              Bind(lib, "curl_easy_reset", api.easy_reset) &&
              Bind(lib, "curl_easy_cleanup", api.easy_cleanup) &&
              Bind(lib, "curl_easy_strerror", api.easy_strerror) &&
              Bind(lib, "curl_slist_append", api.slist_append) &&
              Bind(lib, "curl_slist_free_all", api.slist_free_all);
    if (!ok) {
      error = std::string(kLibcurlSoname) + " lacks a function tidemark uses (too old?)";
      return;
    }
    // Never unloaded: handles may live until exit.
    if (CURLcode rc = api.global_init(CURL_GLOBAL_DEFAULT); rc != CURLE_OK)
      error = std::string("libcurl init failed: ") + api.easy_strerror(rc);
  });
  if (!error.empty()) return Error{error};
  return &api;
}

}  // namespace

tidemark::Status EnsureCurlInitialized() {
  auto api = Curl();
  if (!api.ok()) return api.error();
  return OkStatus();
}

std::string CurlErrorText(int code) {
  auto api = Curl();
  if (!api.ok()) return "libcurl error " + std::to_string(code);
  return (*api)->easy_strerror(static_cast<CURLcode>(code));
}

Result<std::unique_ptr<CurlPoster>> CurlPoster::Create() {
  auto api = Curl();
  if (!api.ok()) return api.error();
  const CurlApi& c = **api;
  CURL* h = c.easy_init();
  if (h == nullptr) return Error{"libcurl: curl_easy_init failed"};
  curl_slist* headers = c.slist_append(nullptr, "Content-Type: application/json");
  // No "Expect: 100-continue" round trip for larger bodies.
  headers = headers ? c.slist_append(headers, "Expect:") : nullptr;
  if (headers == nullptr) {
    c.easy_cleanup(h);
    return Error{"libcurl: out of memory building headers"};
  }
  return std::unique_ptr<CurlPoster>(new CurlPoster(h, headers));
}

CurlPoster::~CurlPoster() {
  const CurlApi& c = **Curl();  // loaded: Create succeeded
  c.slist_free_all(static_cast<curl_slist*>(headers_));
  c.easy_cleanup(static_cast<CURL*>(handle_));
}

HttpOutcome CurlPoster::Post(const std::string& url, const std::string& body, int timeout_ms,
                             int connect_timeout_ms) {
  const CurlApi& c = **Curl();  // loaded: Create succeeded
  CURL* h = static_cast<CURL*>(handle_);
  HttpOutcome out;
  bool sent = false;
  c.easy_reset(h);
  c.easy_setopt(h, CURLOPT_URL, url.c_str());
  c.easy_setopt(h, CURLOPT_POST, 1L);
  c.easy_setopt(h, CURLOPT_POSTFIELDS, body.data());
  c.easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  c.easy_setopt(h, CURLOPT_HTTPHEADER, static_cast<curl_slist*>(headers_));
  c.easy_setopt(h, CURLOPT_FORBID_REUSE, 1L);
  c.easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
  c.easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  c.easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  c.easy_setopt(h, CURLOPT_NOPROXY, "*");
  c.easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_ms));
  c.easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(connect_timeout_ms));
  c.easy_setopt(h, CURLOPT_WRITEFUNCTION, &OnData);
  c.easy_setopt(h, CURLOPT_WRITEDATA, &out.body);
  c.easy_setopt(h, CURLOPT_PREREQFUNCTION, &OnPreRequest);
  c.easy_setopt(h, CURLOPT_PREREQDATA, &sent);
  const CURLcode rc = c.easy_perform(h);
  out.curl_code = static_cast<int>(rc);
  out.request_sent = sent;
  if (rc == CURLE_OK) {
    c.easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out.http_status);
  } else {
    long err = 0;
    c.easy_getinfo(h, CURLINFO_OS_ERRNO, &err);
    out.os_errno = static_cast<int>(err);
  }
  return out;
}

}  // namespace tidemark::targets
