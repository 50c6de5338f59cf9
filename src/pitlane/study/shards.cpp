#include "pitlane/study/shards.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <numeric>

#include "pitlane/core/error.h"
#include "pitlane/core/files.h"
#include "pitlane/core/sha256.h"
#include "pitlane/study/stage_cache.h"

namespace pitlane::study {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

// A whole number in [lo, hi] spelled with digits only.
std::optional<int> whole(const std::string& text, int lo, int hi) {
  if (text.empty() || text.size() > 6 || text.find_first_not_of("0123456789") != std::string::npos)
    return std::nullopt;
  const int v = std::stoi(text);
  if (v < lo || v > hi) return std::nullopt;
  return v;
}

int open_lock_file(const fs::path& path) {
  fs::create_directories(path.parent_path());
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    throw InputError(path.string() + ": cannot open the lock file (" + std::strerror(errno) +
                     "); the run folder must be writable by every shard");
  }
  return fd;
}

// Who holds the lock, as the holder wrote it.
std::string holder_of(const fs::path& path) {
  try {
    std::string text = read_file(path);
    while (!text.empty() && (text.back() == '\n' || text.back() == '\0')) text.pop_back();
    return text.empty() ? "another process" : text;
  } catch (const std::exception&) {
    return "another process";
  }
}

void write_holder(int fd) {
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  const std::string text = std::string(host) + " pid " + std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) == 0) {
    // Only a message for whoever waits: a failed write costs nothing but that.
    [[maybe_unused]] const ssize_t n = ::pwrite(fd, text.data(), text.size(), 0);
  }
}

int lock_fd(int fd, int operation) {
  int r;
  do {
    r = ::flock(fd, operation);
  } while (r != 0 && errno == EINTR);
  return r;
}

}  // namespace

std::string ShardSpec::label() const {
  return std::to_string(index) + "/" + std::to_string(count);
}

std::string ShardSpec::stem() const {
  return std::to_string(index) + "-of-" + std::to_string(count);
}

ShardSpec parse_shard(const std::string& text, const std::string& option) {
  const size_t slash = text.find('/');
  const std::string fix = "; give I/N with 0 <= I < N <= " + std::to_string(kMaxShards) +
                          " (I is 0-based, like SLURM_ARRAY_TASK_ID and JOB_COMPLETION_INDEX)";
  if (slash == std::string::npos) throw InputError(option + " " + text + ": no '/'" + fix);
  const auto count = whole(text.substr(slash + 1), 1, kMaxShards);
  const auto index = whole(text.substr(0, slash), 0, kMaxShards - 1);
  if (!count || !index) throw InputError(option + " " + text + ": not two whole numbers" + fix);
  if (*index >= *count) {
    throw InputError(option + " " + text + ": the index must be below the count (0/" +
                     std::to_string(*count) + " .. " + std::to_string(*count - 1) + "/" +
                     std::to_string(*count) + ")" + fix);
  }
  return {.index = *index, .count = *count};
}

std::vector<int> plan_owners(const std::vector<double>& costs, int count) {
  if (count < 1) throw std::invalid_argument("plan_owners: count must be at least 1");
  std::vector<size_t> order(costs.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return costs[a] > costs[b]; });
  std::vector<double> load(static_cast<size_t>(count), 0.0);
  std::vector<int> owners(costs.size(), 0);
  for (size_t unit : order) {
    const auto least = std::min_element(load.begin(), load.end());  // the first of equal loads
    owners[unit] = static_cast<int>(least - load.begin());
    *least += costs[unit];
  }
  return owners;
}

double recipe_cost(const RecipeVariant& variant, const OptimizeSection& optimize) {
  // The auto recipe drives its candidates (about a hundred laps): as long as a training recipe.
  if (variant.recipe == "auto") return 10.0;
  if (!train::is_training_recipe(variant.recipe)) return 0.1;
  const train::TrainingRecipe r = training_recipe(variant, optimize);
  return r.prune_epochs + r.cluster_epochs + r.qat_epochs * r.qat_data_fraction + 0.1;
}

std::string unit_key(const std::string& stage_key, const std::string& unit_id) {
  return sha256_hex(stage_key + "\n" + unit_id);
}

FileLock FileLock::acquire(const fs::path& path,
                           const std::function<void(const std::string&)>& on_wait) {
  const int fd = open_lock_file(path);
  if (lock_fd(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK) {
      const std::string why = std::strerror(errno);
      ::close(fd);
      throw InputError(path.string() + ": cannot lock (" + why +
                       "); put runs_dir on a filesystem with working locks (flock)");
    }
    if (on_wait) on_wait(holder_of(path));
    if (lock_fd(fd, LOCK_EX) != 0) {
      const std::string why = std::strerror(errno);
      ::close(fd);
      throw InputError(path.string() + ": cannot lock (" + why +
                       "); put runs_dir on a filesystem with working locks (flock)");
    }
  }
  write_holder(fd);
  return FileLock(fd);
}

std::optional<FileLock> FileLock::try_acquire(const fs::path& path) {
  const int fd = open_lock_file(path);
  if (lock_fd(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return std::nullopt;
  }
  write_holder(fd);
  return FileLock(fd);
}

FileLock::FileLock(FileLock&& other) noexcept : fd_(other.fd_) {
  other.fd_ = -1;
}

FileLock& FileLock::operator=(FileLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the last descriptor releases the flock
}

UnitStore::UnitStore(fs::path run_dir) : run_dir_(std::move(run_dir)) {}

fs::path UnitStore::file(const std::string& kind, const std::string& id) const {
  return run_dir_ / "shards" / "units" / kind / (id + ".json");
}

fs::path UnitStore::lock(const std::string& name) const {
  const fs::path dir = run_dir_ / "shards" / "locks";
  fs::create_directories(dir);
  return dir / (name + ".lock");
}

std::optional<Json> UnitStore::lookup(const std::string& kind, const std::string& id,
                                      const std::string& key) const {
  const fs::path path = file(kind, id);
  if (!fs::exists(path)) return std::nullopt;
  Json stored;
  try {
    stored = Json::parse(read_file(path));
  } catch (const std::exception&) {
    return std::nullopt;  // damaged: computed again
  }
  if (!stored.is_object() || stored.value("key", "") != key || !stored.contains("result"))
    return std::nullopt;
  for (const auto& f : stored.value("files", Json::array())) {
    if (!f.is_string() || !fs::exists(run_dir_ / f.get<std::string>())) return std::nullopt;
  }
  return stored["result"];
}

void UnitStore::store(const std::string& kind, const std::string& id, const std::string& key,
                      const Json& result, const std::vector<std::string>& files) const {
  Json stored;
  stored["unit"] = kind + "/" + id;
  stored["key"] = key;
  stored["files"] = files;
  stored["result"] = result;
  write_file_atomic(file(kind, id), stored.dump(2) + "\n");
}

fs::path shard_manifest_path(const fs::path& run_dir, const ShardSpec& shard) {
  return run_dir / "shards" / (shard.stem() + ".json");
}

fs::path prepare_manifest_path(const fs::path& run_dir) {
  return run_dir / "shards" / "prepare.json";
}

std::string config_sha256(const StudyConfig& config) {
  return sha256_hex(to_json(config).dump());
}

std::string code_sha256() {
  std::string text;
  for (const auto& [folder, hash] : built_code_hashes()) text += folder + " " + hash + "\n";
  return sha256_hex(text);
}

const std::vector<std::string>& sharded_stages() {
  static const std::vector<std::string> stages = {"optimize", "evaluate", "benchmark", "drive"};
  return stages;
}

}  // namespace pitlane::study
