// Stage results cached by a hash of their inputs, so that rerunning a study skips what is done.
//
// Each stage's result is a small JSON file in runs/NAME/stages/STAGE.json holding the key it
// was computed for: the SHA-256 of the stage's own configuration, the keys of the stages it
// read from, and the pitlane version. A stage is reused when its file exists with the same key
// and the files it names still exist; otherwise it runs again, and so does everything
// downstream (their keys change with it). Results are written atomically after the stage's
// outputs, so an interrupted stage is simply run again.
//
//   StageCache cache("runs/quick/stages", /*force_from=*/"");
//   std::string key = stage_key("train", {{"config", ...}, {"record", record_key}});
//   if (auto hit = cache.lookup("train", key)) return *hit;
//   ... run ...
//   cache.store("train", key, result);
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace pitlane::study {

// The stages in order; `--from STAGE` names one of these.
const std::vector<std::string>& stage_names();

// SHA-256 (hex) of the stage name, the pitlane version and `inputs` as canonical JSON.
std::string stage_key(const std::string& stage, const nlohmann::ordered_json& inputs);

class StageCache {
 public:
  // Stages at or after `force_from` (a name from stage_names(), or "") are never reused.
  StageCache(std::filesystem::path dir, std::string force_from);

  // The stored result if `stage` was last computed with `key` and every path listed under
  // its "files" (relative to the run folder) still exists.
  std::optional<nlohmann::ordered_json> lookup(const std::string& stage,
                                               const std::string& key) const;
  void store(const std::string& stage, const std::string& key,
             const nlohmann::ordered_json& result) const;

 private:
  std::filesystem::path dir_;  // runs/NAME/stages
  int force_index_ = -1;       // index in stage_names(), -1 = none
};

}  // namespace pitlane::study
