#include "pitlane/study/config.h"

#include <algorithm>
#include <map>
#include <set>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "pitlane/brain/neural_brain.h"
#include "pitlane/core/error.h"
#include "pitlane/core/files.h"
#include "pitlane/data/dataset.h"
#include "pitlane/eval/model_runner.h"
#include "pitlane/sim/timing.h"
#include "pitlane/track/circuit.h"
#include "pitlane/track/generator.h"

namespace pitlane::study {
namespace {

namespace fs = std::filesystem;

std::string where(const fs::path& source, const YAML::Mark& mark) {
  std::string s = source.string();
  if (mark.line >= 0)
    s += ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
  return s;
}

// InputError "FILE:LINE:COL: PATH: MESSAGE" at `at` (PATH, the mapping's place in the config,
// left out at the top level).
[[noreturn]] void fail_at(const fs::path& source, const YAML::Node& at, const std::string& path,
                          const std::string& message) {
  throw InputError(where(source, at.Mark()) + ": " + (path.empty() ? "" : path + ": ") + message);
}

// yaml-cpp keeps both entries of a key written twice and answers lookups with one of them, so a
// second `epochs:` further down would silently lose (or win). Every mapping of the document,
// at any depth and inside lists, is checked before anything is read.
void reject_duplicate_keys(const YAML::Node& node, const std::string& path,
                           const fs::path& source) {
  if (node.IsMap()) {
    std::map<std::string, YAML::Mark> seen;
    for (const auto& kv : node) {
      if (!kv.first.IsScalar()) continue;  // a complex key; reading it is what fails
      const std::string key = kv.first.Scalar();
      const auto [first, fresh] = seen.emplace(key, kv.first.Mark());
      if (!fresh) {
        fail_at(source, kv.first, path,
                "key '" + key + "' appears twice (first at line " +
                    std::to_string(first->second.line + 1) + "); keep one");
      }
      reject_duplicate_keys(kv.second, path.empty() ? key : path + "." + key, source);
    }
  } else if (node.IsSequence()) {
    for (size_t i = 0; i < node.size(); ++i) {
      reject_duplicate_keys(node[i], path + "[" + std::to_string(i) + "]", source);
    }
  }
}

// One YAML mapping read strictly: each key is taken at most once, and finish() rejects any key
// that was not taken, listing the ones that are allowed.
class Section {
 public:
  Section(const YAML::Node& node, std::string path, const fs::path& source)
      : node_(node), path_(std::move(path)), source_(source) {
    if (node_ && !node_.IsNull() && !node_.IsMap()) {
      fail(node_, "must be a mapping of keys to values");
    }
  }

  [[noreturn]] void fail(const YAML::Node& at, const std::string& message) const {
    fail_at(source_, at, path_, message);
  }

  const std::string& path() const { return path_; }
  const fs::path& source() const { return source_; }

  // The value of `key`, or an undefined node when it is not there.
  YAML::Node value(const char* key) const { return lookup(key); }
  bool has(const char* key) const { return static_cast<bool>(lookup(key)); }

  // InputError at the mapping when `key` is missing; `example` shows what a complete one is.
  void require(const char* key, const std::string& example) const {
    if (!has(key)) fail(node_, std::string("needs '") + key + "', e.g. " + example);
  }

  template <typename T>
  void read(const char* key, T& out) {
    allowed_.push_back(key);
    const YAML::Node v = lookup(key);
    if (!v) return;
    out = convert<T>(v, key);
  }

  template <typename T>
  void read(const char* key, std::optional<T>& out) {
    T value{};
    if (has(key)) {
      read(key, value);
      out = value;
    } else {
      allowed_.push_back(key);
    }
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

  void read_int(const char* key, std::optional<int>& out, int lo, int hi) {
    int value = 0;
    read_int(key, value, lo, hi);
    if (has(key)) out = value;
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

  void read_double(const char* key, std::optional<double>& out, double lo, double hi) {
    double value = 0.0;
    read_double(key, value, lo, hi);
    if (has(key)) out = value;
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

  // A list whose items the caller reads (mappings among them: item()); undefined when absent.
  YAML::Node list(const char* key) {
    allowed_.push_back(key);
    const YAML::Node v = lookup(key);
    if (v && !v.IsSequence()) fail(v, std::string(key) + " must be a list, e.g. [a, b]");
    return v;
  }

  // Item `i` of the list at `key`, a mapping, as a section of its own ("optimize.recipes[2]").
  Section item(const char* key, size_t i, const YAML::Node& node) const {
    const std::string name = std::string(key) + "[" + std::to_string(i) + "]";
    return Section(node, path_.empty() ? name : path_ + "." + name, source_);
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

// A circuit is loaded to be checked: a CSV file that exists but does not parse fails here, not
// in the middle of the recording.
void check_circuit(const std::string& name) {
  const auto names = track::builtin_circuit_names();
  if (std::find(names.begin(), names.end(), name) != names.end()) return;
  if (track::parse_generated_name(name)) return;
  if (fs::path(name).extension() == ".csv" && fs::exists(name)) {
    (void)track::load_circuit(name);
    return;
  }
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
  names.emplace_back("auto");  // autotune.h: int8 and fp32 layers chosen by the driving score
  if (std::find(names.begin(), names.end(), r) == names.end()) {
    std::string list;
    for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
    throw InputError("'" + r + "' is not a recipe; use " + list);
  }
}

void check_calib_method(const std::string& m) {
  const std::set<std::string> methods = {"minmax", "percentile", "entropy", "mse"};
  if (!methods.count(m)) {
    throw InputError("'" + m + "' is unknown; use minmax, percentile, entropy or mse");
  }
}

// A recording folder or a folder of recordings, every recording in it loadable (data.csv parses,
// every frame's image exists).
void check_recordings(const std::string& dir) {
  if (!fs::exists(dir)) throw InputError("'" + dir + "' does not exist");
  if (!fs::is_directory(dir)) {
    throw InputError("'" + dir + "' is not a folder; give a recording folder or a folder of them");
  }
  for (const auto& r : expand_recordings({dir})) (void)data::load_recording(r);
}

// The names the study's own models and files take, and the words slowdown_models gives a meaning,
// are not free for a variant or a user's model.
void check_model_name(const std::string& name) {
  if (name.empty() || name[0] == '.' ||
      name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") !=
          std::string::npos) {
    throw InputError("'" + name +
                     "' must be letters, digits, '_', '-' or '.' (it names the model's file)");
  }
  if (name == "baseline" || name == "expert" || name == "all" || name == "pilotnet" ||
      name.starts_with("pilotnet_dagger")) {
    throw InputError("'" + name +
                     "' is taken by the study (baseline, expert, all, pilotnet, pilotnet_daggerN); "
                     "choose another name");
  }
}

// The items in order of first appearance (a circuit listed twice is recorded once).
template <typename T>
std::vector<T> without_repeats(std::vector<T> v) {
  std::set<T> seen;
  std::vector<T> out;
  for (auto& x : v) {
    if (seen.insert(x).second) out.push_back(x);
  }
  return out;
}

void read_record(Section s, RecordSection& r) {
  s.read_names("circuits", r.circuits, check_circuit);
  s.read_names("directions", r.directions, check_direction);
  s.read_int("frames", r.frames, 1, 1'000'000);
  s.read_int("perturbed_frames", r.perturbed_frames, 0, 1'000'000);
  s.read_names("recordings", r.recordings, check_recordings);
  s.finish();
  r.circuits = without_repeats(r.circuits);
  r.directions = without_repeats(r.directions);
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

// Which overrides a recipe takes: the parameters of the phases it has (from its study defaults,
// so a recipe that gains a phase gains its keys).
struct RecipeKnobs {
  bool prune = false;       // sparsity, prune_epochs
  bool polynomial = false;  // initial_sparsity
  bool cluster = false;     // clusters, cluster_epochs
  bool qat = false;         // qat_epochs, qat_data_fraction
  bool calib_method = false;
  bool calib_images = false;
};

RecipeKnobs knobs_of(const std::string& recipe) {
  if (!train::is_training_recipe(recipe)) {
    // Of the post-training recipes, the static int8 ones calibrate on recordings.
    const bool calibrated = recipe == "int8" || recipe == "int8-only" || recipe == "auto";
    return {.calib_method = calibrated, .calib_images = calibrated};
  }
  const train::TrainingRecipe r = train::default_training_recipe(recipe);
  return {.prune = r.prune_epochs > 0,
          .polynomial = r.prune_epochs > 0 &&
                        r.prune.schedule.kind == train::SparsitySchedule::Kind::polynomial,
          .cluster = r.cluster_epochs > 0,
          .qat = r.qat_epochs > 0,
          .calib_images = r.int8_after};
}

// One item of optimize.recipes: a recipe name, or {recipe: NAME, name: NAME, overrides...}.
RecipeVariant read_variant(const Section& list, size_t i, const YAML::Node& node) {
  RecipeVariant v;
  if (node.IsScalar()) {
    v.recipe = node.Scalar();
    try {
      check_recipe(v.recipe);
    } catch (const InputError& e) {
      list.fail(node, std::string("recipes: ") + e.what());
    }
    v.name = v.recipe;
    return v;
  }
  if (!node.IsMap()) {
    list.fail(node,
              "recipes: each item is a recipe name or a mapping like {recipe: prune, "
              "name: prune-90, sparsity: 0.9}");
  }
  Section s = list.item("recipes", i, node);
  s.require("recipe", "{recipe: prune, name: prune-90, sparsity: 0.9}");
  s.read("recipe", v.recipe);
  try {
    check_recipe(v.recipe);
  } catch (const InputError& e) {
    s.fail(s.value("recipe"), std::string("recipe: ") + e.what());
  }
  v.name = v.recipe;
  s.read("name", v.name);
  try {
    check_model_name(v.name);
  } catch (const InputError& e) {
    s.fail(s.value("name"), std::string("name: ") + e.what());
  }
  s.read_double("sparsity", v.sparsity, 0.0, 0.99);
  s.read_double("initial_sparsity", v.initial_sparsity, 0.0, 0.99);
  s.read_int("clusters", v.clusters, 2, 255);
  s.read("calib_method", v.calib_method);
  s.read_int("calib_images", v.calib_images, 1, 100'000);
  s.read_int("prune_epochs", v.prune_epochs, 1, 1000);
  s.read_int("cluster_epochs", v.cluster_epochs, 1, 1000);
  s.read_int("qat_epochs", v.qat_epochs, 1, 1000);
  s.read_double("qat_data_fraction", v.qat_data_fraction, 1e-6, 1.0);
  s.finish();

  // An override the recipe has no use for is a mistake, not something to ignore.
  const RecipeKnobs k = knobs_of(v.recipe);
  const std::vector<std::pair<const char*, bool>> applies = {{"sparsity", k.prune},
                                                             {"prune_epochs", k.prune},
                                                             {"initial_sparsity", k.polynomial},
                                                             {"clusters", k.cluster},
                                                             {"cluster_epochs", k.cluster},
                                                             {"qat_epochs", k.qat},
                                                             {"qat_data_fraction", k.qat},
                                                             {"calib_method", k.calib_method},
                                                             {"calib_images", k.calib_images}};
  for (const auto& [key, ok] : applies) {
    if (s.has(key) && !ok) {
      s.fail(s.value(key), std::string(key) + " does not apply to recipe '" + v.recipe +
                               "' (it has no phase that uses it); remove it");
    }
  }
  if (v.calib_method) {
    try {
      check_calib_method(*v.calib_method);
    } catch (const InputError& e) {
      s.fail(s.value("calib_method"), std::string("calib_method: ") + e.what());
    }
  }
  if (v.initial_sparsity) {
    const double target =
        v.sparsity.value_or(train::default_training_recipe(v.recipe).prune.schedule.target);
    if (*v.initial_sparsity > target) {
      std::ostringstream m;
      m << "initial_sparsity " << *v.initial_sparsity << " is above the target sparsity " << target
        << "; the decay goes from initial_sparsity up to sparsity";
      s.fail(s.value("initial_sparsity"), m.str());
    }
  }
  return v;
}

void read_optimize(Section s, OptimizeSection& o) {
  s.read("calib_method", o.calib_method);
  s.read_int("calib_images", o.calib_images, 1, 100'000);
  read_finetune(s.child("finetune"), o.finetune);
  const YAML::Node list = s.list("recipes");
  if (list) {
    o.recipes.clear();
    std::map<std::string, int> line_of;  // name -> line of its item
    for (size_t i = 0; i < list.size(); ++i) {
      RecipeVariant v = read_variant(s, i, list[i]);
      const auto same = std::find_if(o.recipes.begin(), o.recipes.end(),
                                     [&](const RecipeVariant& x) { return x.name == v.name; });
      if (same != o.recipes.end()) {
        // The same item twice is optimized once; two different ones need two names.
        if (to_json(*same) == to_json(v)) continue;
        s.fail(list[i], "recipes: the name '" + v.name + "' is taken by the item at line " +
                            std::to_string(line_of[v.name]) +
                            "; give each variant its own name (name: ...)");
      }
      line_of[v.name] = list[i].Mark().line + 1;
      o.recipes.push_back(std::move(v));
    }
  }
  s.finish();
  try {
    check_calib_method(o.calib_method);
  } catch (const InputError& e) {
    s.fail(s.value("calib_method"), std::string("calib_method: ") + e.what());
  }
}

void read_evaluate(Section s, EvaluateSection& e) {
  s.read_names("circuits", e.circuits, check_circuit);
  s.read_names("directions", e.directions, check_direction);
  s.read_int("frames", e.frames, 1, 1'000'000);
  s.read_names("recordings", e.recordings, check_recordings);
  s.finish();
  e.circuits = without_repeats(e.circuits);
  e.directions = without_repeats(e.directions);
}

void read_benchmark(Section s, BenchmarkSection& b) {
  s.read_int("runs", b.runs, 1, 1'000'000);
  s.read_int("warmup", b.warmup, 0, 1'000'000);
  s.read_int("threads", b.threads, 1, 64);
  s.read_double("latency_quantum_ms", b.latency_quantum_ms, 0.001, 1000.0);
  s.finish();
}

// `models`, the users' own: {name, file} each, the file loaded as the stages will load it.
void read_models(Section& top, StudyConfig& c) {
  const YAML::Node list = top.list("models");
  if (!list) return;
  const std::string example = "{name: mine, file: models/mine.onnx}";
  for (size_t i = 0; i < list.size(); ++i) {
    if (!list[i].IsMap()) top.fail(list[i], "models: each item is a mapping like " + example);
    Section s = top.item("models", i, list[i]);
    s.require("name", example);
    s.require("file", example);
    UserModel m;
    s.read("name", m.name);
    s.read("file", m.file);
    s.finish();
    try {
      check_model_name(m.name);
    } catch (const InputError& e) {
      s.fail(s.value("name"), std::string("name: ") + e.what());
    }
    bool taken = false;
    for (const auto& v : c.optimize.recipes) taken |= v.name == m.name;
    for (const auto& other : c.models) taken |= other.name == m.name;
    if (taken) {
      s.fail(s.value("name"), "name '" + m.name +
                                  "' is taken by a recipe variant or another model; give each "
                                  "model its own name");
    }
    if (!fs::is_regular_file(m.file)) {
      s.fail(s.value("file"), "file '" + m.file + "' " +
                                  (fs::exists(m.file) ? "is not a file" : "does not exist") +
                                  "; give the path of an ONNX model");
    }
    try {
      // What the evaluate stage opens (the driving-model shape) and what the drives run.
      (void)eval::open_model(m.file, 1);
      brain::NeuralBrain brain(m.file, brain::NeuralBrainOptions{});
    } catch (const std::exception& e) {
      s.fail(s.value("file"), std::string("file: ") + e.what());
    }
    c.models.push_back(m);
  }
}

void read_drive(Section s, DriveSection& d, const std::vector<std::string>& models) {
  s.read_names("circuits", d.circuits, check_circuit);
  s.read_names("directions", d.directions, check_direction);
  s.read_int("repetitions", d.repetitions, 1, 1000);
  s.read_names("perturb", d.perturb, [](const std::string& p) {
    if (p != "start" && p != "style" && p != "weather")
      throw InputError("'" + p + "' is not a perturbation; use start, style or weather");
  });
  d.perturb = without_repeats(d.perturb);
  s.read("trajectories", d.trajectories);
  s.read_int("laps", d.laps, 1, 100);
  s.read_double("timeout_s", d.timeout_s, 0.0, 1e6);
  s.read("timing", d.timing);
  // A name that is not a model would silently drive nothing slower.
  s.read_names("slowdown_models", d.slowdown_models, [&](const std::string& m) {
    if (m == "all" || std::find(models.begin(), models.end(), m) != models.end()) return;
    std::string list = "all";
    for (const auto& n : models) list += ", " + n;
    throw InputError("'" + m + "' is not a model of the study; use " + list);
  });
  s.read("slowdowns", d.slowdowns);
  s.read("expert", d.expert);
  s.read_int("jobs", d.jobs, 1, 64);
  s.finish();
}

// The folder name each circuit's recordings get (recorder.h: CIRCUIT_DIRECTION[_perturbed]...).
std::vector<std::string> recording_bases(const std::vector<std::string>& circuits,
                                         const std::vector<std::string>& directions) {
  std::vector<std::string> out;
  for (const auto& c : circuits) {
    const std::string name = track::load_circuit(c).name();
    for (const auto& d : directions) out.push_back(name + "_" + d);
  }
  return out;
}

// Recordings are told apart by their folder names (training and evaluation load them together
// and refuse two of one name): the expert's must be distinct, and the users' must differ from
// them and from each other. `expert` is what the expert records; `list` is the users' folders as
// given, at `nodes` in the config.
void check_recording_names(const std::vector<std::string>& expert,
                           const std::vector<std::string>& list, const YAML::Node& nodes,
                           const std::string& key, const fs::path& source) {
  std::set<std::string> names(expert.begin(), expert.end());
  for (size_t i = 0; i < list.size(); ++i) {
    for (const auto& dir : expand_recordings({list[i]})) {
      const std::string name = data::load_recording(dir).name;
      if (std::find(expert.begin(), expert.end(), name) != expert.end()) {
        fail_at(source, nodes[i], key,
                "recording '" + dir.string() + "' has the name of one the expert records ('" +
                    name + "'); rename its folder (recordings are told apart by folder name)");
      }
      if (!names.insert(name).second) {
        fail_at(source, nodes[i], key,
                "a second recording is named '" + name + "' (" + dir.string() +
                    "); recording folder names must be distinct, rename one");
      }
    }
  }
}

// Distinct circuits whose recordings would share a folder name (two CSV files of one name,
// generated:1 and generated:01).
void check_distinct(const std::vector<std::string>& bases, const std::string& what,
                    const fs::path& source) {
  std::set<std::string> seen;
  for (const auto& b : bases) {
    if (!seen.insert(b).second) {
      throw InputError(source.string() + ": " + what + ": two circuits record as '" + b +
                       "'; list each circuit once");
    }
  }
}

}  // namespace

bool RecipeVariant::overrides_anything() const {
  return sparsity || initial_sparsity || clusters || calib_method || calib_images || prune_epochs ||
         cluster_epochs || qat_epochs || qat_data_fraction;
}

train::TrainingRecipe training_recipe(const RecipeVariant& v, const OptimizeSection& o) {
  train::TrainingRecipe r = train::default_training_recipe(v.recipe);
  train::SparsitySchedule& s = r.prune.schedule;
  // As `pitlane optimize --sparsity`: the target moves, a polynomial decay starts no higher.
  if (v.sparsity) {
    s.target = *v.sparsity;
    if (s.initial > s.target) s.initial = s.target;
  }
  if (v.initial_sparsity) s.initial = *v.initial_sparsity;
  if (s.kind == train::SparsitySchedule::Kind::constant) s.initial = s.target;
  if (v.clusters) r.cluster.clusters = *v.clusters;
  if (v.prune_epochs) r.prune_epochs = *v.prune_epochs;
  if (v.cluster_epochs) r.cluster_epochs = *v.cluster_epochs;
  if (v.qat_epochs) r.qat_epochs = *v.qat_epochs;
  if (v.qat_data_fraction) r.qat_data_fraction = *v.qat_data_fraction;
  r.calib_images = v.calib_images.value_or(o.calib_images);
  return r;
}

quant::OptimizeOptions post_training_options(const RecipeVariant& v, const OptimizeSection& o) {
  quant::OptimizeOptions q;
  q.recipe = v.recipe;
  q.calib_method = v.calib_method.value_or(o.calib_method);
  q.calib_images = v.calib_images.value_or(o.calib_images);
  return q;
}

std::vector<fs::path> expand_recordings(const std::vector<std::string>& dirs) {
  const std::vector<fs::path> paths(dirs.begin(), dirs.end());
  return data::find_recordings(paths);
}

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
  reject_duplicate_keys(root, "", source);
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
  read_models(top, c);
  std::vector<std::string> models = {"expert", "baseline"};
  for (const auto& v : c.optimize.recipes) models.push_back(v.name);
  for (const auto& m : c.models) models.push_back(m.name);
  read_drive(top.child("drive"), c.drive, models);
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
  // The expert may record nothing for training when the users bring their own recordings, as
  // long as no DAgger round needs circuits to drive.
  const bool own_training_data = !c.record.recordings.empty() && c.dagger.rounds == 0;
  if ((c.record.circuits.empty() && !own_training_data) || c.record.directions.empty()) {
    throw InputError(at + "record needs circuits and directions to record training data" +
                     (c.record.recordings.empty() ? "" : " (DAgger rounds drive on them)"));
  }
  if ((c.evaluate.circuits.empty() && c.evaluate.recordings.empty()) ||
      c.evaluate.directions.empty()) {
    throw InputError(at + "evaluate needs circuits (or recordings) and directions");
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

  // Recording folder names: the expert's training recordings (plain, perturbed, each DAgger
  // round's, as study.cpp names them) and its test recordings, then the users'.
  const std::vector<std::string> train_bases =
      recording_bases(c.record.circuits, c.record.directions);
  check_distinct(train_bases, "record.circuits", source);
  std::vector<std::string> expert_train;
  for (const auto& b : train_bases) {
    expert_train.push_back(b);
    if (c.record.perturbed_frames > 0) expert_train.push_back(b + "_perturbed");
    for (int round = 1; round <= c.dagger.rounds; ++round) {
      expert_train.push_back(b + "_dagger" + (round == 1 ? "" : std::to_string(round)));
    }
  }
  const std::vector<std::string> test_bases =
      recording_bases(c.evaluate.circuits, c.evaluate.directions);
  check_distinct(test_bases, "evaluate.circuits", source);
  const YAML::Node& r = root;
  if (!c.record.recordings.empty()) {
    check_recording_names(expert_train, c.record.recordings, r["record"]["recordings"],
                          "record.recordings", source);
  }
  if (!c.evaluate.recordings.empty()) {
    check_recording_names(test_bases, c.evaluate.recordings, r["evaluate"]["recordings"],
                          "evaluate.recordings", source);
  }
  return c;
}

StudyConfig load_study_config(const fs::path& path) {
  if (!fs::exists(path)) {
    throw InputError(path.string() + ": no such config file; see configs/default.yaml");
  }
  return parse_study_config(read_file(path), path);
}

nlohmann::ordered_json to_json(const RecipeVariant& v) {
  if (!v.overrides_anything() && v.name == v.recipe) return v.recipe;
  nlohmann::ordered_json j = {{"recipe", v.recipe}, {"name", v.name}};
  auto put = [&](const char* key, const auto& value) {
    if (value) j[key] = *value;
  };
  put("sparsity", v.sparsity);
  put("initial_sparsity", v.initial_sparsity);
  put("clusters", v.clusters);
  put("calib_method", v.calib_method);
  put("calib_images", v.calib_images);
  put("prune_epochs", v.prune_epochs);
  put("cluster_epochs", v.cluster_epochs);
  put("qat_epochs", v.qat_epochs);
  put("qat_data_fraction", v.qat_data_fraction);
  return j;
}

nlohmann::ordered_json to_json(const UserModel& m) {
  return {{"name", m.name}, {"file", m.file}};
}

nlohmann::ordered_json to_json(const RecordSection& s) {
  return {{"circuits", s.circuits},
          {"directions", s.directions},
          {"frames", s.frames},
          {"perturbed_frames", s.perturbed_frames},
          {"recordings", s.recordings}};
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
  nlohmann::ordered_json recipes = nlohmann::ordered_json::array();
  for (const auto& v : s.recipes) recipes.push_back(to_json(v));
  return {{"recipes", recipes},
          {"calib_method", s.calib_method},
          {"calib_images", s.calib_images},
          {"finetune",
           {{"samples_per_epoch", s.finetune.samples_per_epoch},
            {"batch_size", s.finetune.batch_size},
            {"learning_rate", s.finetune.learning_rate}}}};
}

nlohmann::ordered_json to_json(const EvaluateSection& s) {
  return {{"circuits", s.circuits},
          {"directions", s.directions},
          {"frames", s.frames},
          {"recordings", s.recordings}};
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
          {"perturb", s.perturb},
          {"trajectories", s.trajectories},
          {"laps", s.laps},
          {"timeout_s", s.timeout_s},
          {"timing", s.timing},
          {"slowdowns", s.slowdowns},
          {"slowdown_models", s.slowdown_models},
          {"expert", s.expert}};
}

nlohmann::ordered_json to_json(const StudyConfig& c) {
  nlohmann::ordered_json models = nlohmann::ordered_json::array();
  for (const auto& m : c.models) models.push_back(to_json(m));
  return {{"name", c.name},
          {"seed", c.seed},
          {"threads", c.threads},
          {"record", to_json(c.record)},
          {"train", to_json(c.train)},
          {"dagger", to_json(c.dagger)},
          {"optimize", to_json(c.optimize)},
          {"evaluate", to_json(c.evaluate)},
          {"benchmark", to_json(c.benchmark)},
          {"drive", to_json(c.drive)},
          {"models", models}};
}

}  // namespace pitlane::study
