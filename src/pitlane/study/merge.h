// `pitlane merge`: the results of a sharded study (shards.h) put together into the results.json
// and results.md an unsharded run of the same config writes.
//
// The shards' manifests (RUN/shards/I-of-N.json) name every unit of the sharded stages with its
// key and owner. The merge checks that every shard 0..N-1 finished and that all agree (the
// config's hash, the code's hash, every stage key, the same plan), takes each unit's result
// from the unit store (it must hold that key), lays them out in the order the unsharded stages
// produce them (recipe variants, models, brains, drives in job order) and builds results.json
// with the same function as the unsharded run, from the same typed results. So the merged file
// has the same bytes as an unsharded run's, except the values under "wall_clock" keys, which are
// measurements (two unsharded runs differ there too): the stage times are the longest shard's,
// total_s the time from the first shard's start to the merge's end, reused_stages the stages no
// shard (nor the prepare job) computed any part of.
//
// It also stores the merged stages in RUN/stages/, so that the unsharded command on the same
// config reuses every stage afterwards.
//
//   MergeResult m = merge_shards({"runs/quick"});             // every shard of runs/quick
//   MergeResult m = merge_shards({"runs/quick/shards/0-of-2.json",
//   "runs/quick/shards/1-of-2.json"});
//
// InputError (one line) when a shard is missing, two disagree, or a unit is missing or stale.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace pitlane::study {

struct MergeResult {
  std::filesystem::path run_dir;   // where results.json and results.md were written
  nlohmann::ordered_json results;  // what results.json holds
  std::string tables;              // the terminal tables
  int shards = 0;
};

// `inputs`: run folders (every manifest under RUN/shards/) or shard manifests, all of one run.
MergeResult merge_shards(const std::vector<std::filesystem::path>& inputs);

}  // namespace pitlane::study
