#include "pitlane/study/stage_cache.h"

#include <algorithm>
#include <stdexcept>

#include "pitlane/core/error.h"
#include "pitlane/core/files.h"
#include "pitlane/core/sha256.h"

namespace pitlane::study {
namespace {

namespace fs = std::filesystem;

// Bumped when what a stage produces changes without a change in the hashed sources (the
// compiler, the libraries), so old caches are not reused.
constexpr const char* kStageVersion = "pitlane-study-1";

int index_of(const std::string& stage) {
  const auto& names = stage_names();
  const auto it = std::find(names.begin(), names.end(), stage);
  return it == names.end() ? -1 : static_cast<int>(it - names.begin());
}

}  // namespace

const std::vector<std::string>& stage_names() {
  static const std::vector<std::string> names = {"record",   "train",     "dagger", "optimize",
                                                 "evaluate", "benchmark", "drive",  "report"};
  return names;
}

const std::vector<std::string>& stage_code_folders(const std::string& stage) {
  // Documented, with the reasons, in stage_cache.h.
  static const std::map<std::string, std::vector<std::string>> folders = {
      {"record", {"core", "track", "sim", "data", "brain", "record", "study", "circuits"}},
      {"train", {"core", "data", "onnx", "quant", "train", "study"}},
      {"dagger",
       {"core", "track", "sim", "data", "onnx", "runtime", "brain", "record", "quant", "train",
        "study", "circuits"}},
      {"optimize", {"core", "data", "onnx", "runtime", "quant", "train", "study"}},
      {"evaluate", {"core", "data", "onnx", "runtime", "eval", "study"}},
      {"benchmark",
       {"core", "track", "sim", "data", "onnx", "runtime", "brain", "study", "circuits"}},
      {"drive",
       {"core", "track", "sim", "data", "onnx", "runtime", "brain", "drive", "study", "circuits"}},
  };
  const auto it = folders.find(stage);
  if (it == folders.end()) throw std::invalid_argument("stage '" + stage + "' has no cache key");
  return it->second;
}

std::string stage_key(const std::string& stage, const nlohmann::ordered_json& inputs,
                      const CodeHashes& code) {
  std::string text = stage + "\n" + kStageVersion + "\n";
  for (const auto& folder : stage_code_folders(stage)) {
    const auto it = code.find(folder);
    if (it == code.end()) {
      throw std::invalid_argument("no code hash for folder '" + folder + "' (stage " + stage + ")");
    }
    text += folder + " " + it->second + "\n";
  }
  return sha256_hex(text + inputs.dump());
}

StageCache::StageCache(fs::path dir, const std::string& force_from) : dir_(std::move(dir)) {
  if (!force_from.empty()) {
    force_index_ = index_of(force_from);
    if (force_index_ < 0) {
      std::string list;
      for (const auto& n : stage_names()) list += (list.empty() ? "" : ", ") + n;
      throw InputError("--from " + force_from + ": no such stage; use one of " + list);
    }
  }
}

std::optional<nlohmann::ordered_json> StageCache::lookup(const std::string& stage,
                                                         const std::string& key) const {
  if (force_index_ >= 0 && index_of(stage) >= force_index_) return std::nullopt;
  const fs::path file = dir_ / (stage + ".json");
  if (!fs::exists(file)) return std::nullopt;
  nlohmann::ordered_json stored;
  try {
    stored = nlohmann::ordered_json::parse(read_file(file));
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;  // a damaged cache entry is recomputed, not an error
  }
  if (!stored.is_object() || stored.value("key", "") != key || !stored.contains("result")) {
    return std::nullopt;
  }
  const fs::path run = dir_.parent_path();
  for (const auto& f : stored.value("files", nlohmann::ordered_json::array())) {
    if (!f.is_string() || !fs::exists(run / f.get<std::string>())) return std::nullopt;
  }
  return stored["result"];
}

void StageCache::store(const std::string& stage, const std::string& key,
                       const nlohmann::ordered_json& result) const {
  nlohmann::ordered_json stored;
  stored["stage"] = stage;
  stored["key"] = key;
  stored["files"] = result.value("files", nlohmann::ordered_json::array());
  stored["result"] = result;
  fs::create_directories(dir_);
  write_file_atomic(dir_ / (stage + ".json"), stored.dump(2) + "\n");
}

}  // namespace pitlane::study
