// Stage results cached by a hash of their inputs and of the code that computes them, so that
// rerunning a study skips what is done and a rebuilt binary redoes what its changes affect.
//
// Each stage's result is a small JSON file in runs/NAME/stages/STAGE.json holding the key it
// was computed for: the SHA-256 of the stage's own configuration, the keys of the stages it
// read from, the pitlane version, and the content hash of every source folder the stage's code
// depends on (stage_code_folders). A stage is reused when its file exists with the same key and
// the files it names still exist; otherwise it runs again, and so does everything downstream
// (their keys change with it). Results are written atomically after the stage's outputs, so an
// interrupted stage is simply run again.
//
//   StageCache cache("runs/quick/stages", /*force_from=*/"");
//   std::string key = stage_key("train", {{"config", ...}, {"record", record_key}});
//   if (auto hit = cache.lookup("train", key)) return *hit;
//   ... run ...
//   cache.store("train", key, result);
//
// The code hashes are generated at build time by cmake/code_hashes.cmake: per folder, the
// SHA-256 of its files' relative paths and contents (src/pitlane/FOLDER's C++ sources and
// CMakeLists.txt; circuits/*.csv), the same on every machine for the same sources. Tests pass
// their own CodeHashes to stage_key.
//
// Which folders each stage's key covers, from the includes of the code the stage runs (each
// stage also reads its upstream keys, so a change upstream reaches it through them as well):
//
//   record     core track sim data brain record study circuits
//              (the expert drives and the recorder writes; no runtime: the expert is no network)
//   train      core data onnx quant train study
//              (the trainer, the ONNX writer, the recordings' loader and preprocessing)
//   dagger     core track sim data onnx runtime brain record quant train study circuits
//              (the model drives on the runtime while the expert labels, then training)
//   optimize   core data onnx runtime quant train study
//              (post-training recipes calibrate on the runtime; training-time ones fine-tune)
//   evaluate   core data onnx runtime eval study
//   benchmark  core track sim data onnx runtime brain study circuits
//              (the brains timed on frames rendered along simple_circuit)
//   drive      core track sim data onnx runtime brain drive study circuits
//              (the episodes run by drive/'s runner)
//
// `study` is in every list: the stages' own code is study.cpp. The compiler, its flags and the
// libraries pitlane links (oneDNN, libtorch, OpenCV) are not hashed; the version string in the
// key is bumped by hand when they change what a stage produces.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace pitlane::study {

// The stages in order; `--from STAGE` names one of these.
const std::vector<std::string>& stage_names();

// Folder ("core", ..., "study", "circuits") -> SHA-256 (hex) of its sources.
using CodeHashes = std::map<std::string, std::string>;

// The hashes of the sources this binary was built from (generated at build time).
const CodeHashes& built_code_hashes();

// The folders whose code decides `stage`'s result (the table above). std::invalid_argument for
// a stage that has no key (report) or no such stage.
const std::vector<std::string>& stage_code_folders(const std::string& stage);

// SHA-256 (hex) of the stage name, the pitlane version, the hash of each folder of
// stage_code_folders(stage) taken from `code`, and `inputs` as canonical JSON.
// std::invalid_argument when `code` lacks one of those folders.
std::string stage_key(const std::string& stage, const nlohmann::ordered_json& inputs,
                      const CodeHashes& code = built_code_hashes());

class StageCache {
 public:
  // Stages at or after `force_from` (a name from stage_names(), or "") are never reused.
  StageCache(std::filesystem::path dir, const std::string& force_from);

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
