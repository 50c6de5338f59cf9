#include "pitlane/core/files.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <system_error>

#include "pitlane/core/error.h"

namespace fs = std::filesystem;

namespace pitlane {
namespace {

fs::path sibling_temp(const fs::path& path, std::string_view tag) {
  return path.parent_path() /
         ("." + path.filename().string() + "." + std::string(tag) + "-" + std::to_string(getpid()));
}

// Removes `.NAME.TAG-PID` siblings of `path` left by processes that no longer run (killed before
// they could clean up); a live process's are kept.
void remove_stale_siblings(const fs::path& path, std::string_view tag) {
  const fs::path parent = path.parent_path().empty() ? fs::path(".") : path.parent_path();
  const std::string prefix = "." + path.filename().string() + "." + std::string(tag) + "-";
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(parent, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(prefix, 0) != 0) continue;
    const std::string pid_text = name.substr(prefix.size());
    if (pid_text.empty() || pid_text.find_first_not_of("0123456789") != std::string::npos ||
        pid_text.size() > 9)
      continue;
    const auto pid = static_cast<pid_t>(std::stol(pid_text));
    if (pid == getpid() || (kill(pid, 0) != 0 && errno == ESRCH)) fs::remove_all(entry.path(), ec);
  }
}

void ensure_parent(const fs::path& path) {
  const fs::path parent = path.parent_path();
  if (parent.empty()) return;
  std::error_code ec;
  fs::create_directories(parent, ec);
  if (ec || !fs::is_directory(parent)) {
    throw InputError(path.string() + ": cannot create folder '" + parent.string() + "' (" +
                     (ec ? ec.message() : "not a folder") + "); choose a writable output path");
  }
}

}  // namespace

void check_writable(const fs::path& path) {
  ensure_parent(path);
  const fs::path parent = path.parent_path().empty() ? fs::path(".") : path.parent_path();
  if (fs::is_directory(path)) {
    throw InputError(path.string() + ": is a folder; give a file name");
  }
  // A real probe rather than access(2): root passes every permission check, yet cannot write
  // to a read-only filesystem or to /proc.
  const fs::path probe = sibling_temp(path, "probe");
  const int fd = open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0) {
    const int err = errno;
    if (err != EEXIST)
      throw InputError(path.string() + ": folder '" + parent.string() + "' is not writable (" +
                       std::strerror(err) + "); choose a writable output path");
    return;
  }
  close(fd);
  unlink(probe.c_str());
}

void check_not_an_input(const fs::path& output, std::initializer_list<fs::path> inputs) {
  check_not_an_input(output, std::span<const fs::path>(inputs.begin(), inputs.size()));
}

void check_not_an_input(const fs::path& output, std::span<const fs::path> inputs) {
  std::error_code ec;
  const fs::path out = fs::weakly_canonical(fs::absolute(output, ec), ec);
  for (const fs::path& input : inputs) {
    if (input.empty()) continue;
    std::error_code ec2;
    const bool same = fs::weakly_canonical(fs::absolute(input, ec2), ec2) == out ||
                      (fs::exists(output, ec2) && fs::equivalent(output, input, ec2));
    if (same)
      throw InputError(output.string() + ": is the same file as the input " + input.string() +
                       "; write to another path");
  }
}

std::string safe_file_name(std::string_view name) {
  std::string out;
  for (char c : name.substr(0, 100)) {
    const bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '.' || c == '-' || c == '_';
    out += keep ? c : '_';
  }
  if (!out.empty() && out[0] == '.') out[0] = '_';
  return out.empty() ? "unnamed" : out;
}

void write_file_atomic(const fs::path& path, std::string_view contents) {
  check_writable(path);
  const fs::path tmp = sibling_temp(path, "tmp");
  remove_stale_siblings(path, "tmp");
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw InputError(path.string() + ": cannot write; choose a writable output path");
    out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
    out.flush();
    if (!out) {
      std::error_code ec;
      fs::remove(tmp, ec);
      throw RunError(path.string() + ": write failed (disk full?)");
    }
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    throw InputError(path.string() + ": cannot replace file; choose a writable output path");
  }
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in || fs::is_directory(path)) {
    throw InputError(path.string() + ": cannot read file; check the path");
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

StagedDir::StagedDir(fs::path final_path) : final_(std::move(final_path)) {
  if (final_.filename().empty()) final_ = final_.parent_path();
  ensure_parent(final_);
  staging_ = sibling_temp(final_, "partial");
  remove_stale_siblings(final_, "partial");
  std::error_code ec;
  fs::create_directories(staging_, ec);
  if (ec) {
    throw InputError(final_.string() + ": cannot create folder (" + ec.message() +
                     "); choose a writable output path");
  }
}

StagedDir::~StagedDir() {
  if (!committed_) {
    std::error_code ec;
    fs::remove_all(staging_, ec);
  }
}

void StagedDir::commit() {
  std::error_code ec;
  fs::remove_all(final_, ec);
  fs::rename(staging_, final_, ec);
  if (ec)
    throw RunError(final_.string() + ": cannot move finished folder into place: " + ec.message());
  committed_ = true;
}

}  // namespace pitlane
