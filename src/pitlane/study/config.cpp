#include "pitlane/study/config.h"

#include <algorithm>
#include <set>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "pitlane/core/error.h"
#include "pitlane/core/files.h"
#include "pitlane/quant/optimize.h"
#include "pitlane/sim/timing.h"
#include "pitlane/track/circuit.h"
#include "pitlane/track/generator.h"
#include "pitlane/train/training_recipes.h"

namespace pitlane::study {
namespace {

namespace fs = std::filesystem;

std::string where(const fs::path& source, const YAML::Mark& mark) {
  std::string s = source.string();
  if (mark.line >= 0)
    s += ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
  return s;
}

// One YAML mapping read strictly: each key is taken at most once, and finish() rejects any key
// that was not taken, listing the ones that are allowed.
class Section {
 public:
  Section(YAML::Node node, std::string path, const fs::path& source)
      : node_(std::move(node)), path_(std::move(path)), source_(source) {
    if (node_ && !node_.IsNull() && !node_.IsMap()) {
      fail(node_, "must be a mapping of keys to values");
    }
  }

  [[noreturn]] void fail(const YAML::Node& at, const std::string& message) const {
    throw InputError(where(source_, at.Mark()) + ": " + (path_.empty() ? "" : path_ + ": ") +
                     message);
  }

  template <typename T>
  void read(const char* key, T& out) {
    allowed_.push_back(key);
    const YAML::Node v = lookup(key);
    if (!v) return;
    out = convert<T>(v, key);
  }

  void read_int(const char* key, int& out, int lo, int hi) {
    allowed_.push_back(key);
    const YAML::Node v = lookup(key);
    if (!v) return;
    out = convert<int>(v, key);
    if (out < lo || out > hi) {
      fail(v, std::string(key) + " = " + std::to_string(out) + " is out of range; use " +
                  std::to_string(lo) + ".." + std::to_string(hi));
    }
  }

  void read_double(const char* key, double& out, double lo, double hi) {
    allowed_.push_back(key);
    const YAML::Node v = lookup(key);
    if (!v) return;
    out = convert<double>(v, key);
    if (!(out >= lo && out <= hi)) {
      std::ostringstream s;
      s << key << " = " << out << " is out of range; use " << lo << ".." << hi;
      fail(v, s.str());
    }
  }

  // A list of strings, each checked by `check` (which throws with a message on a bad item).
  template <typename Check>
  void read_names(const char* key, std::vector<std::string>& out, Check check) {
    allowed_.push_back(key);
    const YAML::Node v = lookup(key);
    if (!v) return;
    out = convert<std::vector<std::string>>(v, key);
    for (size_t i = 0; i < out.size(); ++i) {
      try {
        check(out[i]);
      } catch (const InputError& e) {
        fail(v[i], std::string(key) + ": " + e.what());
      }
    }
  }

  Section child(const char* key) {
    allowed_.push_back(key);
    const std::string sub = path_.empty() ? key : path_ + "." + key;
    return Section(lookup(key), sub, source_);
  }

  // Unknown keys are errors: a misspelt key would otherwise silently keep its default.
  void finish() const {
    if (!node_ || !node_.IsMap()) return;
    for (const auto& kv : node_) {
      const auto key = kv.first.as<std::string>();
      if (std::find(allowed_.begin(), allowed_.end(), key) == allowed_.end()) {
        std::string list;
        for (const auto& a : allowed_) list += (list.empty() ? "" : ", ") + a;
        fail(kv.first, "unknown key '" + key + "'; allowed here: " + list);
      }
    }
  }

 private:
  YAML::Node lookup(const char* key) const {
    if (!node_ || !node_.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
    const YAML::Node v = node_[key];
    if (v && v.IsNull()) fail(v, std::string(key) + " has no value; give one or remove the key");
    return v;
  }

  template <typename T>
  T convert(const YAML::Node& v, const char* key) const {
    try {
      if constexpr (std::is_same_v<T, std::vector<std::string>> ||
                    std::is_same_v<T, std::vector<double>>) {
        if (!v.IsSequence()) fail(v, std::string(key) + " must be a list, e.g. [a, b]");
      } else if (!v.IsScalar()) {
        fail(v, std::string(key) + " must be a single value");
      }
      return v.as<T>();
    } catch (const YAML::Exception&) {
      const char* kind = std::is_same_v<T, int> || std::is_same_v<T, uint64_t> ? "a whole number"
                         : std::is_same_v<T, double>                           ? "a number"
                         : std::is_same_v<T, bool>                             ? "true or false"
                         : std::is_same_v<T, std::vector<double>>              ? "a list of numbers"
                                                                               : "text";
      fail(v, std::string(key) + " must be " + kind);
    }
  }

  YAML::Node node_;
  std::string path_;
  const fs::path& source_;
  std::vector<std::string> allowed_;
};

void check_circuit(const std::string& name) {
  const auto names = track::builtin_circuit_names();
  if (std::find(names.begin(), names.end(), name) != names.end()) return;
  if (track::parse_generated_name(name)) return;
  if (fs::path(name).extension() == ".csv" && fs::exists(name)) return;
  std::string list;
  for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
  throw InputError("'" + name + "' is neither a built-in circuit (" + list +
                   "), generated:SEED, nor an existing .csv file");
}

void check_direction(const std::string& d) {
  if (d != "cw" && d != "ccw") throw InputError("'" + d + "' is not a direction; use cw or ccw");
}

void check_recipe(const std::string& r) {
  if (r.empty() || r == "baseline") {
    throw InputError("'" + r + "' is not a recipe (the baseline is always in the study)");
  }
  auto names = quant::recipe_names();
  for (const auto& n : train::training_recipe_names()) names.push_back(n);
  if (std::find(names.begin(), names.end(), r) == names.end()) {
    std::string list;
    for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
    throw InputError("'" + r + "' is not a recipe; use " + list);
  }
}

void check_model_name(const std::string& m) {
  if (m.empty()) throw InputError("empty model name; use baseline or a recipe name");
}

void read_record(Section s, RecordSection& r) {
  s.read_names("circuits", r.circuits, check_circuit);
  s.read_names("directions", r.directions, check_direction);
  s.read_int("frames", r.frames, 0, 1'000'000);
  s.read_int("perturbed_frames", r.perturbed_frames, 0, 1'000'000);
  s.finish();
}

void read_train(Section s, TrainSection& t) {
  s.read("arch", t.arch);
  s.read_int("epochs", t.epochs, 1, 1000);
  s.read_int("samples_per_epoch", t.samples_per_epoch, 0, 100'000'000);
  s.read_int("batch_size", t.batch_size, 1, 4096);
  s.read_double("learning_rate", t.learning_rate, 1e-7, 1.0);
  s.read_double("validation_fraction", t.validation_fraction, 0.0, 0.9);
  s.read_int("early_stop_patience", t.early_stop_patience, 1, 1000);
  s.read("output_weights", t.output_weights);
  s.finish();
}

void read_dagger(Section s, DaggerSection& d) {
  s.read_int("rounds", d.rounds, 0, 100);
  s.read_int("frames", d.frames, 1, 1'000'000);
  s.read_double("expert_share", d.expert_share, 0.0, 1.0);
  s.read_int("epochs", d.epochs, 1, 1000);
  s.read_int("samples_per_epoch", d.samples_per_epoch, 0, 100'000'000);
  s.read_double("learning_rate", d.learning_rate, 1e-7, 1.0);
  s.finish();
}

void read_finetune(Section s, FinetuneSection& f) {
  s.read_int("samples_per_epoch", f.samples_per_epoch, 0, 100'000'000);
  s.read_int("batch_size", f.batch_size, 1, 4096);
  s.read_double("learning_rate", f.learning_rate, 1e-7, 1.0);
  s.finish();
}

void read_optimize(Section s, OptimizeSection& o) {
  s.read_names("recipes", o.recipes, check_recipe);
  s.read("calib_method", o.calib_method);
  s.read_int("calib_images", o.calib_images, 1, 100'000);
  read_finetune(s.child("finetune"), o.finetune);
  s.finish();
}

void read_evaluate(Section s, EvaluateSection& e) {
  s.read_names("circuits", e.circuits, check_circuit);
  s.read_names("directions", e.directions, check_direction);
  s.read_int("frames", e.frames, 1, 1'000'000);
  s.finish();
}

void read_benchmark(Section s, BenchmarkSection& b) {
  s.read_int("runs", b.runs, 1, 1'000'000);
  s.read_int("warmup", b.warmup, 0, 1'000'000);
  s.read_int("threads", b.threads, 1, 64);
  s.read_double("latency_quantum_ms", b.latency_quantum_ms, 0.001, 1000.0);
  s.finish();
}

void read_drive(Section s, DriveSection& d) {
  s.read_names("circuits", d.circuits, check_circuit);
  s.read_names("directions", d.directions, check_direction);
  s.read_int("repetitions", d.repetitions, 1, 1000);
  s.read_int("laps", d.laps, 1, 100);
  s.read_double("timeout_s", d.timeout_s, 0.0, 1e6);
  s.read("timing", d.timing);
  s.read_names("slowdown_models", d.slowdown_models, check_model_name);
  s.read("slowdowns", d.slowdowns);
  s.read("expert", d.expert);
  s.read_int("jobs", d.jobs, 1, 64);
  s.finish();
}

// The items in order of first appearance (a recipe listed twice is optimized once).
template <typename T>
std::vector<T> without_repeats(std::vector<T> v) {
  std::set<T> seen;
  std::vector<T> out;
  for (auto& x : v) {
    if (seen.insert(x).second) out.push_back(x);
  }
  return out;
}

}  // namespace

void check_study_name(const std::string& name, const std::string& context) {
  if (name.empty() || name[0] == '.' ||
      name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") !=
          std::string::npos) {
    throw InputError(context + " '" + name +
                     "' must be letters, digits, '_', '-' or '.' (it names the run's folder)");
  }
}

StudyConfig parse_study_config(const std::string& yaml_text, const fs::path& source) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::ParserException& e) {
    throw InputError(where(source, e.mark) + ": not valid YAML (" + e.msg +
                     "); check the indentation and quoting there");
  }
  if (!root || root.IsNull()) {
    throw InputError(source.string() + ": the config is empty; see configs/default.yaml");
  }
  StudyConfig c;
  c.source = source;
  Section top(root, "", source);
  top.read("name", c.name);
  std::string runs_dir = c.runs_dir.string();
  top.read("runs_dir", runs_dir);
  c.runs_dir = runs_dir;
  top.read("seed", c.seed);
  top.read_int("threads", c.threads, 1, 64);
  read_record(top.child("record"), c.record);
  read_train(top.child("train"), c.train);
  read_dagger(top.child("dagger"), c.dagger);
  read_optimize(top.child("optimize"), c.optimize);
  read_evaluate(top.child("evaluate"), c.evaluate);
  read_benchmark(top.child("benchmark"), c.benchmark);
  read_drive(top.child("drive"), c.drive);
  top.finish();

  // Checks that need more than one value, or a value's meaning.
  const std::string at = source.string() + ": ";
  check_study_name(c.name, source.string() + ": name");
  if (c.train.arch != "pilotnet" && c.train.arch != "pilotnet-same") {
    throw InputError(at + "train.arch '" + c.train.arch + "' is unknown; use pilotnet or " +
                     "pilotnet-same");
  }
  if (c.train.output_weights.size() != 2 || c.train.output_weights[0] <= 0 ||
      c.train.output_weights[1] <= 0) {
    throw InputError(at + "train.output_weights must be two positive numbers, e.g. [1, 10]");
  }
  if (c.record.circuits.empty() || c.record.directions.empty() ||
      c.record.frames + c.record.perturbed_frames == 0) {
    throw InputError(at + "record needs circuits, directions and frames to record training data");
  }
  if (c.evaluate.circuits.empty() || c.evaluate.directions.empty()) {
    throw InputError(at + "evaluate needs circuits and directions");
  }
  if (c.drive.circuits.empty() || c.drive.directions.empty()) {
    throw InputError(at + "drive needs circuits and directions");
  }
  if (c.drive.timing != "benchmark") {
    try {
      (void)sim::TimingModel::parse(c.drive.timing);
    } catch (const InputError& e) {
      throw InputError(at + "drive.timing: " + e.what() + " (or use benchmark)");
    }
  }
  if (c.drive.slowdowns.empty()) c.drive.slowdowns = {1.0};
  for (double f : c.drive.slowdowns) {
    if (!(f > 0 && f <= 10000)) {
      throw InputError(at + "drive.slowdowns must be factors in (0, 10000], e.g. [1, 30]");
    }
  }
  const std::set<std::string> methods = {"minmax", "percentile", "entropy", "mse"};
  if (!methods.count(c.optimize.calib_method)) {
    throw InputError(at + "optimize.calib_method '" + c.optimize.calib_method +
                     "' is unknown; use minmax, percentile, entropy or mse");
  }
  c.optimize.recipes = without_repeats(c.optimize.recipes);
  return c;
}

StudyConfig load_study_config(const fs::path& path) {
  if (!fs::exists(path)) {
    throw InputError(path.string() + ": no such config file; see configs/default.yaml");
  }
  return parse_study_config(read_file(path), path);
}

nlohmann::ordered_json to_json(const RecordSection& s) {
  return {{"circuits", s.circuits},
          {"directions", s.directions},
          {"frames", s.frames},
          {"perturbed_frames", s.perturbed_frames}};
}

nlohmann::ordered_json to_json(const TrainSection& s) {
  return {{"arch", s.arch},
          {"epochs", s.epochs},
          {"samples_per_epoch", s.samples_per_epoch},
          {"batch_size", s.batch_size},
          {"learning_rate", s.learning_rate},
          {"validation_fraction", s.validation_fraction},
          {"early_stop_patience", s.early_stop_patience},
          {"output_weights", s.output_weights}};
}

nlohmann::ordered_json to_json(const DaggerSection& s) {
  return {{"rounds", s.rounds},
          {"frames", s.frames},
          {"expert_share", s.expert_share},
          {"epochs", s.epochs},
          {"samples_per_epoch", s.samples_per_epoch},
          {"learning_rate", s.learning_rate}};
}

nlohmann::ordered_json to_json(const OptimizeSection& s) {
  return {{"recipes", s.recipes},
          {"calib_method", s.calib_method},
          {"calib_images", s.calib_images},
          {"finetune",
           {{"samples_per_epoch", s.finetune.samples_per_epoch},
            {"batch_size", s.finetune.batch_size},
            {"learning_rate", s.finetune.learning_rate}}}};
}

nlohmann::ordered_json to_json(const EvaluateSection& s) {
  return {{"circuits", s.circuits}, {"directions", s.directions}, {"frames", s.frames}};
}

nlohmann::ordered_json to_json(const BenchmarkSection& s) {
  return {{"runs", s.runs},
          {"warmup", s.warmup},
          {"threads", s.threads},
          {"latency_quantum_ms", s.latency_quantum_ms}};
}

nlohmann::ordered_json to_json(const DriveSection& s) {
  return {{"circuits", s.circuits},
          {"directions", s.directions},
          {"repetitions", s.repetitions},
          {"laps", s.laps},
          {"timeout_s", s.timeout_s},
          {"timing", s.timing},
          {"slowdowns", s.slowdowns},
          {"slowdown_models", s.slowdown_models},
          {"expert", s.expert}};
}

nlohmann::ordered_json to_json(const StudyConfig& c) {
  return {{"name", c.name},
          {"seed", c.seed},
          {"threads", c.threads},
          {"record", to_json(c.record)},
          {"train", to_json(c.train)},
          {"dagger", to_json(c.dagger)},
          {"optimize", to_json(c.optimize)},
          {"evaluate", to_json(c.evaluate)},
          {"benchmark", to_json(c.benchmark)},
          {"drive", to_json(c.drive)}};
}

}  // namespace pitlane::study
