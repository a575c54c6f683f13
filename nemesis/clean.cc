#include "nemesis/clean.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "base/file.h"
#include "base/filename.h"
#include "nemesis/sys.h"

namespace tidemark::nemesis {
namespace fs = std::filesystem;

std::string ProcCmdline(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
  if (!f) return "";
  std::stringstream ss;
  ss << f.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && s.back() == '\0') s.pop_back();
  std::replace(s.begin(), s.end(), '\0', ' ');
  return s;
}

long long ProcStartTime(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  if (!f) return -1;
  std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  // Field 2 (comm) may hold spaces and parentheses: fields after it start past the last ')'.
  size_t p = s.rfind(')');
  if (p == std::string::npos) return -1;
  std::istringstream rest(s.substr(p + 2));
  std::string field;
  // Field 3 is the first after ')'; starttime is field 22.
  for (int i = 3; i <= 22; ++i)
    if (!(rest >> field)) return -1;
  return std::atoll(field.c_str());
}

CleanupRegistry::CleanupRegistry(std::string path) : path_(std::move(path)) {
  pid_t self = getpid();
  doc_ = {{"controller",
           {{"pid", self}, {"start_time", ProcStartTime(self)}, {"cmdline", ProcCmdline(self)}}},
          {"processes", nlohmann::json::array()},
          {"namespaces", nlohmann::json::array()},
          {"links", nlohmann::json::array()}};
  std::lock_guard<std::mutex> lock(mu_);
  (void)Write();
}

Status CleanupRegistry::Write() { return WriteFileAtomic(path_, doc_.dump(1) + "\n"); }

Status CleanupRegistry::AddProcess(pid_t pid) {
  std::lock_guard<std::mutex> lock(mu_);
  doc_["processes"].push_back(
      {{"pid", pid}, {"start_time", ProcStartTime(pid)}, {"cmdline", ProcCmdline(pid)}});
  return Write();
}

Status CleanupRegistry::RemoveProcess(pid_t pid) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& a = doc_["processes"];
  for (size_t i = 0; i < a.size();)
    if (a[i].value("pid", -1) == pid)
      a.erase(i);
    else
      ++i;
  return Write();
}

Status CleanupRegistry::AddName(const char* list, const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& a = doc_[list];
  for (const auto& x : a)
    if (x == name) return OkStatus();
  a.push_back(name);
  return Write();
}

Status CleanupRegistry::RemoveName(const char* list, const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& a = doc_[list];
  for (size_t i = 0; i < a.size();)
    if (a[i] == name)
      a.erase(i);
    else
      ++i;
  return Write();
}

Status CleanupRegistry::AddNamespace(const std::string& n) { return AddName("namespaces", n); }
Status CleanupRegistry::RemoveNamespace(const std::string& n) {
  return RemoveName("namespaces", n);
}
Status CleanupRegistry::AddLink(const std::string& n) { return AddName("links", n); }
Status CleanupRegistry::RemoveLink(const std::string& n) { return RemoveName("links", n); }

nlohmann::json CleanupRegistry::Snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  return doc_;
}

namespace {

// Is the process recorded in `entry` ({pid, start_time, cmdline}) still that same process?
bool SameProcess(const nlohmann::json& entry) {
  pid_t pid = entry.value("pid", -1);
  if (pid <= 1) return false;
  std::string cmd = ProcCmdline(pid);
  if (cmd.empty() || cmd != entry.value("cmdline", std::string("\x01"))) return false;
  long long st = entry.value("start_time", -1LL);
  return st < 0 || ProcStartTime(pid) == st;
}

bool NamespaceExists(const std::string& name) {
  std::error_code ec;
  return fs::exists("/run/netns/" + name, ec);
}

bool LinkExists(const std::string& name) {
  std::error_code ec;
  return fs::exists("/sys/class/net/" + name, ec);
}

// Names we created always start with "tm"; refuse anything else a tampered file might list.
bool OurName(const std::string& n) {
  return n.size() > 2 && n.rfind("tm", 0) == 0 && n.size() <= 32 &&
         n.find_first_of("/ \t\n") == std::string::npos;
}

}  // namespace

CleanReport CleanRegistryFile(const std::string& path, bool force) {
  CleanReport rep;
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  auto doc = nlohmann::json::parse(ss.str(), nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    rep.errors.push_back(path + ": not a cleanup registry (invalid JSON)");
    return rep;
  }
  if (!force && doc.contains("controller") && SameProcess(doc["controller"])) {
    rep.skipped.push_back(path + ": its run is still in progress (controller pid " +
                          std::to_string(doc["controller"].value("pid", -1)) + ")");
    return rep;
  }
  // Processes first (they may hold namespaces open).
  std::vector<nlohmann::json> victims;
  for (const auto& p : doc.value("processes", nlohmann::json::array())) {
    pid_t pid = p.value("pid", -1);
    if (!SameProcess(p)) {
      if (pid > 0 && kill(pid, 0) == 0)
        rep.skipped.push_back("pid " + std::to_string(pid) + " is now another process (" +
                              ProcCmdline(pid) + "): left alone");
      continue;
    }
    // A node leads its own process group: kill the group so its children go too.
    if (getpgid(pid) == pid)
      killpg(pid, SIGKILL);
    else
      kill(pid, SIGKILL);
    victims.push_back(p);
    rep.removed.push_back("killed pid " + std::to_string(pid) + " (" +
                          p.value("cmdline", std::string()) + ")");
  }
  for (int i = 0; i < 50 && !victims.empty(); ++i) {
    bool alive = false;
    for (const auto& v : victims)
      alive = alive || (kill(v.value("pid", -1), 0) == 0 && SameProcess(v));
    if (!alive) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  for (const auto& n : doc.value("namespaces", nlohmann::json::array())) {
    std::string name = n.is_string() ? n.get<std::string>() : "";
    if (!OurName(name)) {
      rep.skipped.push_back("namespace name " + n.dump() + " is not tidemark's: left alone");
      continue;
    }
    if (!NamespaceExists(name)) continue;
    if (Status s = RunOk({"ip", "netns", "del", name}); s.ok())
      rep.removed.push_back("deleted netns " + name);
    else
      rep.errors.push_back(s.error().message);
  }
  for (const auto& n : doc.value("links", nlohmann::json::array())) {
    std::string name = n.is_string() ? n.get<std::string>() : "";
    if (!OurName(name) || name.size() > 15) {
      rep.skipped.push_back("link name " + n.dump() + " is not tidemark's: left alone");
      continue;
    }
    if (!LinkExists(name)) continue;
    if (Status s = RunOk({"ip", "link", "del", name}); s.ok())
      rep.removed.push_back("deleted link " + name);
    else
      rep.errors.push_back(s.error().message);
  }
  if (rep.errors.empty()) {
    doc["processes"] = nlohmann::json::array();
    doc["namespaces"] = nlohmann::json::array();
    doc["links"] = nlohmann::json::array();
    doc["cleaned"] = true;
    std::ofstream out(path, std::ios::trunc);
    out << doc.dump(1) << "\n";
  }
  return rep;
}

CleanReport CleanLeftovers(const std::string& store_root) {
  CleanReport all;
  std::error_code ec;
  if (!fs::is_directory(store_root, ec)) {
    all.errors.push_back(store_root + ": not a directory");
    return all;
  }
  // recursive_directory_iterator does not follow directory symlinks (store/latest) by default.
  fs::recursive_directory_iterator it(store_root, fs::directory_options::skip_permission_denied,
                                      ec),
      end;
  for (; !ec && it != end; it.increment(ec)) {
    if (it->path().filename() != filename::kCleanup || !it->is_regular_file(ec)) continue;
    CleanReport r = CleanRegistryFile(it->path().string());
    for (auto& s : r.removed) all.removed.push_back(std::move(s));
    for (auto& s : r.skipped) all.skipped.push_back(std::move(s));
    for (auto& s : r.errors) all.errors.push_back(std::move(s));
  }
  if (ec) all.errors.push_back(store_root + ": " + ec.message());
  return all;
}

}  // namespace tidemark::nemesis
