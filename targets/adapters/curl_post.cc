#include "targets/adapters/curl_post.h"

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

}  // namespace

tidemark::Status EnsureCurlInitialized() {
  static std::once_flag once;
  static CURLcode rc = CURLE_OK;
  std::call_once(once, [] { rc = curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (rc != CURLE_OK) return Error{std::string("libcurl init failed: ") + curl_easy_strerror(rc)};
  return OkStatus();
}

Result<std::unique_ptr<CurlPoster>> CurlPoster::Create() {
  if (auto st = EnsureCurlInitialized(); !st.ok()) return st.error();
  CURL* h = curl_easy_init();
  if (h == nullptr) return Error{"libcurl: curl_easy_init failed"};
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  // No "Expect: 100-continue" round trip for larger bodies.
  headers = headers ? curl_slist_append(headers, "Expect:") : nullptr;
  if (headers == nullptr) {
    curl_easy_cleanup(h);
    return Error{"libcurl: out of memory building headers"};
  }
  return std::unique_ptr<CurlPoster>(new CurlPoster(h, headers));
}

CurlPoster::~CurlPoster() {
  curl_slist_free_all(static_cast<curl_slist*>(headers_));
  curl_easy_cleanup(static_cast<CURL*>(handle_));
}

HttpOutcome CurlPoster::Post(const std::string& url, const std::string& body, int timeout_ms,
                             int connect_timeout_ms) {
  CURL* h = static_cast<CURL*>(handle_);
  HttpOutcome out;
  bool sent = false;
  curl_easy_reset(h);
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_POST, 1L);
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, static_cast<curl_slist*>(headers_));
  curl_easy_setopt(h, CURLOPT_FORBID_REUSE, 1L);
  curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_ms));
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(connect_timeout_ms));
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &OnData);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &out.body);
  curl_easy_setopt(h, CURLOPT_PREREQFUNCTION, &OnPreRequest);
  curl_easy_setopt(h, CURLOPT_PREREQDATA, &sent);
  const CURLcode rc = curl_easy_perform(h);
  out.curl_code = static_cast<int>(rc);
  out.request_sent = sent;
  if (rc == CURLE_OK) {
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out.http_status);
  } else {
    long err = 0;
    curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &err);
    out.os_errno = static_cast<int>(err);
  }
  return out;
}

}  // namespace tidemark::targets
