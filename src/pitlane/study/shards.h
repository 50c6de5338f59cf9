// A study sharded over a cluster: N processes (a Slurm job array, a Kubernetes Indexed Job) share
// one run folder on a shared filesystem; each does its share of the independent work and
// `pitlane merge` puts the shares together into the results.json an unsharded run writes.
//
//   shared stages   record, train, dagger: computed once, under a lock on the run folder
//                   (RUN/shards/locks/shared.lock), by whichever process takes it first (a
//                   `--prepare` job, or the first shard); the others wait on the lock, then reuse
//                   them from the stage cache like any rerun does.
//   units           the independent work, one unit each: an optimized recipe variant, a model's
//                   offline evaluation, a brain's benchmark, a drive. The plan deals them out
//                   (each unit has one owner shard; plan_owners) and every unit's result is kept
//                   in RUN/shards/units/KIND/ID.json with its key (the unsharded stage's key and
//                   the unit's id), so a rerun of a shard reuses what it finished.
//   dependencies    a shard drives only its own drives, but every drive needs its model and its
//                   latency: a shard first makes its own models and benchmarks, then takes the
//                   others' from the store. One that no shard has started it computes itself
//                   (under the unit's lock: a shard array that runs one task at a time still
//                   finishes), one that another shard is computing it waits for. A lock holder
//                   never waits for another lock, so this cannot deadlock, and a killed holder's
//                   lock is released by the kernel.
//   manifest        a shard that finished writes RUN/shards/I-of-N.json: the config's and the
//                   code's hashes, the stage keys, the shared stages' results and the whole plan
//                   (every unit's id, key and owner). merge.h reads these.
//
//   ShardSpec s = parse_shard("1/4", "--shard");         // shard index 1 of 4 (0-based)
//   std::vector<int> owners = plan_owners(units, s.count);
//   UnitStore store(run_dir);
//   if (auto hit = store.lookup("drive", "drive-00012", key)) ...
//
// The run folder must be on a filesystem with working advisory locks (flock: a local disk, NFSv4,
// CephFS, GPFS, Lustre mounted with -o flock).
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "pitlane/study/config.h"

namespace pitlane::study {

inline constexpr int kMaxShards = 4096;

// Which share of a study a process runs.
struct ShardSpec {
  int index = 0;  // 0 .. count-1 (Slurm's SLURM_ARRAY_TASK_ID, Kubernetes' JOB_COMPLETION_INDEX)
  int count = 0;  // shards in all; 0: not sharded

  bool sharded() const { return count > 0; }
  std::string label() const;  // "1/4"
  std::string stem() const;   // "1-of-4": the manifest's file name without .json
};

// "I/N" with 0 <= I < N <= kMaxShards. InputError starting with `option` otherwise.
ShardSpec parse_shard(const std::string& text, const std::string& option);

// The owner shard of each unit of a list, given each unit's cost (any unit of time): the costliest
// first, each to the shard with the least work so far (ties: the lowest index), so that the
// training-time recipes (minutes) spread before the post-training ones (seconds). Equal costs
// deal round robin: unit i to shard i % count.
std::vector<int> plan_owners(const std::vector<double>& costs, int count);

// A recipe variant's cost for plan_owners: the epochs its fine-tuning phases train (a
// post-training recipe counts as a tenth of an epoch).
double recipe_cost(const RecipeVariant& variant, const OptimizeSection& optimize);

// The key of one unit of a stage: SHA-256 of the stage's key and the unit's id. The stage key
// (stage_cache.h) covers the configuration, the upstream stages and the code, and the units of
// a stage are a fixed function of them, so equal keys mean equal results.
std::string unit_key(const std::string& stage_key, const std::string& unit_id);

// An exclusive advisory lock (flock) on a file, held while this object lives. The kernel
// releases it when the process dies, so a killed shard never leaves a stale lock. The file holds
// the holder's host and pid, for the message of whoever waits.
class FileLock {
 public:
  // Blocks until the lock is taken; `on_wait(holder)` is called first if it is held.
  static FileLock acquire(const std::filesystem::path& path,
                          const std::function<void(const std::string& holder)>& on_wait = {});
  // The lock if it is free now.
  static std::optional<FileLock> try_acquire(const std::filesystem::path& path);

  FileLock(FileLock&& other) noexcept;
  FileLock& operator=(FileLock&& other) noexcept;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  ~FileLock();

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

// The results of units, one JSON file each: RUN/shards/units/KIND/ID.json holding the key the
// result was computed for, the files it made (relative to the run folder) and the result. Written
// atomically after the unit's files, so a killed unit is simply computed again.
class UnitStore {
 public:
  explicit UnitStore(std::filesystem::path run_dir);

  // The stored result if unit KIND/ID was computed for `key` and its files still exist.
  std::optional<nlohmann::ordered_json> lookup(const std::string& kind, const std::string& id,
                                               const std::string& key) const;
  void store(const std::string& kind, const std::string& id, const std::string& key,
             const nlohmann::ordered_json& result, const std::vector<std::string>& files) const;

  std::filesystem::path file(const std::string& kind, const std::string& id) const;
  // RUN/shards/locks/NAME.lock (the folder is created).
  std::filesystem::path lock(const std::string& name) const;

 private:
  std::filesystem::path run_dir_;
};

// RUN/shards/I-of-N.json, and RUN/shards/prepare.json (what a --prepare job computed).
std::filesystem::path shard_manifest_path(const std::filesystem::path& run_dir,
                                          const ShardSpec& shard);
std::filesystem::path prepare_manifest_path(const std::filesystem::path& run_dir);

// SHA-256 of the configuration as results.json holds it (to_json(StudyConfig)), and of every
// folder's code hash (built_code_hashes): what shards must agree on to be merged.
std::string config_sha256(const StudyConfig& config);
std::string code_sha256();

// The format of the manifests; merge refuses any other.
inline constexpr const char* kShardFormat = "pitlane-shard/1";

// The study's stages whose work is dealt out as units, in stage order.
const std::vector<std::string>& sharded_stages();

}  // namespace pitlane::study
