#include "nemesis/clean.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
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

std::string MachineRunsDir() {
  const char* env = std::getenv("TIDEMARK_RUNS_DIR");
  return env && *env ? env : "/run/tidemark/runs";
}

namespace {

// Leaves the machine-wide entry for the registry at `path`: a file holding its absolute path.
// Best effort: a run that cannot write it is still cleaned by `tidemark clean --store`.
std::string AddMachineEntry(const std::string& path) {
  static std::atomic<int> counter{0};
  std::error_code ec;
  fs::create_directories(MachineRunsDir(), ec);
  const std::string entry = (fs::path(MachineRunsDir()) /
                             (std::to_string(getpid()) + "-" + std::to_string(++counter) + ".run"))
                                .string();
  fs::path absolute = fs::absolute(path, ec);
  if (ec || !WriteFileAtomic(entry, absolute.string() + "\n").ok()) return "";
  return entry;
}

// Removes the machine-wide entries that point at these (swept) registries.
void DropMachineEntries(const std::set<std::string>& registries) {
  std::error_code ec;
  if (registries.empty() || !fs::is_directory(MachineRunsDir(), ec)) return;
  for (const auto& e : fs::directory_iterator(MachineRunsDir(), ec)) {
    std::ifstream f(e.path());
    std::string registry;
    std::getline(f, registry);
    if (registries.count(fs::path(registry).lexically_normal().string())) fs::remove(e.path(), ec);
  }
}

bool NothingListed(const nlohmann::json& doc) {
  for (const char* list : {"processes", "namespaces", "links", "mounts"})
    if (!doc.value(list, nlohmann::json::array()).empty()) return false;
  return true;
}

}  // namespace

CleanupRegistry::CleanupRegistry(std::string path) : path_(std::move(path)) {
  pid_t self = getpid();
  doc_ = {{"controller",
           {{"pid", self}, {"start_time", ProcStartTime(self)}, {"cmdline", ProcCmdline(self)}}},
          {"processes", nlohmann::json::array()},
          {"namespaces", nlohmann::json::array()},
          {"links", nlohmann::json::array()},
          {"mounts", nlohmann::json::array()}};
  std::lock_guard<std::mutex> lock(mu_);
  if (Write().ok()) entry_ = AddMachineEntry(path_);
}

CleanupRegistry::~CleanupRegistry() {
  std::lock_guard<std::mutex> lock(mu_);
  std::error_code ec;
  if (!entry_.empty() && NothingListed(doc_)) fs::remove(entry_, ec);
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
Status CleanupRegistry::AddMount(const std::string& p) { return AddName("mounts", p); }
Status CleanupRegistry::RemoveMount(const std::string& p) { return RemoveName("mounts", p); }

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

// Is `path` a FUSE mount point now? (/proc/mounts: device, mount point, type, ...; a space in a
// path is written \040.) Only FUSE mounts are ever ours to detach.
bool FuseMounted(const std::string& path) {
  std::ifstream f("/proc/mounts");
  std::string device, point, type, rest;
  while (f >> device >> point >> type && std::getline(f, rest)) {
    for (size_t at; (at = point.find("\\040")) != std::string::npos;) point.replace(at, 4, " ");
    if (point == path && type.rfind("fuse", 0) == 0) return true;
  }
  return false;
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
    rep.in_progress = true;
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
  // FUSE mounts whose program was killed stay mounted ("transport endpoint is not connected").
  for (const auto& m : doc.value("mounts", nlohmann::json::array())) {
    std::string point = m.is_string() ? m.get<std::string>() : "";
    if (point.empty() || point[0] != '/' || !FuseMounted(point)) continue;
    if (Status s = RunOk({"umount", "-l", point}); s.ok())
      rep.removed.push_back("unmounted " + point);
    else
      rep.errors.push_back(s.error().message);
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
    doc["mounts"] = nlohmann::json::array();
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
  std::set<std::string> swept;
  for (; !ec && it != end; it.increment(ec)) {
    if (it->path().filename() != filename::kCleanup || !it->is_regular_file(ec)) continue;
    CleanReport r = CleanRegistryFile(it->path().string());
    std::error_code abs_ec;
    if (!r.in_progress && r.errors.empty())
      swept.insert(fs::absolute(it->path(), abs_ec).lexically_normal().string());
    for (auto& s : r.removed) all.removed.push_back(std::move(s));
    for (auto& s : r.skipped) all.skipped.push_back(std::move(s));
    for (auto& s : r.errors) all.errors.push_back(std::move(s));
  }
  if (ec) all.errors.push_back(store_root + ": " + ec.message());
  DropMachineEntries(swept);
  return all;
}

CleanReport CleanMachine() {
  CleanReport all;
  std::error_code ec;
  const std::string dir = MachineRunsDir();
  if (!fs::is_directory(dir, ec)) return all;  // no run ever registered here
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.path().extension() != ".run") continue;
    std::ifstream f(e.path());
    std::string registry;
    std::getline(f, registry);
    std::error_code gone;
    if (registry.empty() || !fs::exists(registry, gone)) {
      fs::remove(e.path(), gone);  // its run directory was deleted: nothing to find any more
      continue;
    }
    CleanReport r = CleanRegistryFile(registry);
    if (!r.in_progress && r.errors.empty()) fs::remove(e.path(), gone);
    for (auto& s : r.removed) all.removed.push_back(std::move(s));
    for (auto& s : r.skipped) all.skipped.push_back(std::move(s));
    for (auto& s : r.errors) all.errors.push_back(std::move(s));
  }
  if (ec) all.errors.push_back(dir + ": " + ec.message());
  return all;
}

}  // namespace tidemark::nemesis
