#include "pitlane/study/config.h"

#include <gtest/gtest.h>

#include <cmath>

#include "../temp_dir.h"
#include "pitlane/core/error.h"
#include "pitlane/core/files.h"
#include "study_test_files.h"

namespace pitlane::study {
namespace {

// The error text for `yaml`, or "" if it parses.
std::string error_of(const std::string& yaml) {
  try {
    (void)parse_study_config(yaml, "s.yaml");
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(StudyConfig, CommittedConfigsLoad) {
  const StudyConfig d = load_study_config(PITLANE_SOURCE_DIR "/configs/default.yaml");
  EXPECT_EQ(d.name, "default");
  EXPECT_EQ(d.record.circuits, (std::vector<std::string>{"many_curves", "nurburgring"}));
  EXPECT_EQ(d.drive.circuits, (std::vector<std::string>{"simple_circuit", "montmelo", "montreal",
                                                        "generated:1", "generated:2"}));
  EXPECT_EQ(d.drive.slowdowns, (std::vector<double>{1.0, 30.0, 150.0}));
  const StudyConfig q = load_study_config(PITLANE_SOURCE_DIR "/configs/quick.yaml");
  EXPECT_EQ(q.name, "quick");
  EXPECT_EQ(q.seed, 7u);
  EXPECT_EQ(q.train.epochs, 1);
  EXPECT_DOUBLE_EQ(q.benchmark.latency_quantum_ms, 10.0);
  // Keys a config leaves out keep their defaults.
  EXPECT_EQ(q.train.arch, "pilotnet");
  EXPECT_EQ(q.train.output_weights, (std::vector<double>{1.0, 10.0}));
}

TEST(StudyConfig, ValuesOverrideDefaults) {
  const StudyConfig c = parse_study_config(
      "name: a-1\nseed: 9\ntrain:\n  arch: pilotnet-same\n  epochs: 3\n"
      "drive:\n  slowdowns: [1, 2.5]\n  timing: fixed:20\n  expert: false\n",
      "s.yaml");
  EXPECT_EQ(c.name, "a-1");
  EXPECT_EQ(c.seed, 9u);
  EXPECT_EQ(c.train.arch, "pilotnet-same");
  EXPECT_EQ(c.train.epochs, 3);
  EXPECT_EQ(c.drive.slowdowns, (std::vector<double>{1.0, 2.5}));
  EXPECT_EQ(c.drive.timing, "fixed:20");
  EXPECT_FALSE(c.drive.expert);
}

TEST(StudyConfig, UnknownKeyNamesFileLineAndAllowedKeys) {
  const std::string e = error_of("name: x\ntrain:\n  epochs: 2\n  epoch: 3\n");
  EXPECT_NE(e.find("s.yaml:4:3"), std::string::npos) << e;
  EXPECT_NE(e.find("unknown key 'epoch'"), std::string::npos) << e;
  EXPECT_NE(e.find("train"), std::string::npos) << e;
  EXPECT_NE(e.find("samples_per_epoch"), std::string::npos) << e;  // lists what is allowed
  EXPECT_NE(error_of("nmae: x\n").find("unknown key 'nmae'"), std::string::npos);
}

TEST(StudyConfig, BadValuesAreOneLineErrorsWithThePlace) {
  const std::string wrong_type = error_of("train:\n  epochs: many\n");
  EXPECT_NE(wrong_type.find("s.yaml:2:11"), std::string::npos) << wrong_type;
  EXPECT_NE(wrong_type.find("whole number"), std::string::npos) << wrong_type;
  EXPECT_NE(error_of("train:\n  epochs: 0\n").find("out of range"), std::string::npos);
  EXPECT_NE(error_of("record:\n  circuits: [nowhere]\n").find("'nowhere'"), std::string::npos);
  EXPECT_NE(error_of("drive:\n  circuits: [generated:abc]\n").find("generated:SEED"),
            std::string::npos);
  EXPECT_NE(error_of("drive:\n  directions: [up]\n").find("cw or ccw"), std::string::npos);
  EXPECT_NE(error_of("drive:\n  timing: sometimes\n").find("drive.timing"), std::string::npos);
  EXPECT_NE(error_of("optimize:\n  recipes: [int4]\n").find("'int4'"), std::string::npos);
  EXPECT_NE(error_of("train:\n  arch: resnet\n").find("pilotnet-same"), std::string::npos);
  EXPECT_NE(error_of("train:\n  output_weights: [1]\n").find("two positive"), std::string::npos);
  EXPECT_NE(error_of("name: ../x\n").find("letters, digits"), std::string::npos);
  EXPECT_NE(error_of("train: [1, 2]\n").find("mapping"), std::string::npos);
  EXPECT_NE(error_of("train:\n  epochs: [1\n").find("not valid YAML"), std::string::npos);
  EXPECT_NE(error_of("").find("empty"), std::string::npos);
  for (const std::string& e : {wrong_type, error_of("train:\n  epoch: 3\n")}) {
    EXPECT_EQ(e.find('\n'), std::string::npos) << e;
  }
}

TEST(StudyConfig, DuplicateKeysAreRejectedInEveryMapping) {
  // yaml-cpp keeps one of the two silently; the config must not.
  EXPECT_EQ(error_of("seed: 1\nname: x\nseed: 2\n"),
            "s.yaml:3:1: key 'seed' appears twice (first at line 1); keep one");
  EXPECT_EQ(error_of("train:\n  epochs: 2\n  batch_size: 8\n  epochs: 3\n"),
            "s.yaml:4:3: train: key 'epochs' appears twice (first at line 2); keep one");
  EXPECT_EQ(error_of("optimize:\n  finetune:\n    batch_size: 8\n    batch_size: 9\n"),
            "s.yaml:4:5: optimize.finetune: key 'batch_size' appears twice (first at line 3); "
            "keep one");
  // A whole section twice, a mapping inside a list, and flow style.
  EXPECT_NE(error_of("drive:\n  laps: 1\ndrive:\n  laps: 2\n").find("key 'drive' appears twice"),
            std::string::npos);
  const std::string in_list =
      error_of("optimize:\n  recipes:\n    - {recipe: prune, name: a, name: b}\n");
  EXPECT_NE(in_list.find("s.yaml:3:32: optimize.recipes[0]: key 'name' appears twice"),
            std::string::npos)
      << in_list;
  // Even where the value is of the wrong kind anyway, the duplicate is what is reported first.
  EXPECT_NE(error_of("benchmark:\n  runs: 5\n  runs: many\n").find("appears twice"),
            std::string::npos);
}

TEST(StudyConfig, ValuesThatWouldFailLaterAreRejectedAtLoad) {
  // record.frames 0 left the study without plain recordings and failed in training.
  const std::string frames = error_of("record:\n  frames: 0\n");
  EXPECT_NE(frames.find("s.yaml:2:11: record: frames = 0 is out of range; use 1..1000000"),
            std::string::npos)
      << frames;
  EXPECT_EQ(error_of("record:\n  perturbed_frames: 0\n"), "");  // none is fine
  // A slowdown model that is not in the study drove nothing slower, silently.
  const std::string slow = error_of("drive:\n  slowdown_models: [baseline, int8]\n");
  EXPECT_NE(slow.find("s.yaml:2:31: drive: slowdown_models: 'int8' is not a model"),
            std::string::npos)
      << slow;
  EXPECT_EQ(error_of("optimize:\n  recipes: [int8]\ndrive:\n  slowdown_models: [int8, expert]\n"),
            "");
  // A calibration method is checked where it is written, for the section and for a variant.
  EXPECT_NE(error_of("optimize:\n  calib_method: median\n").find("s.yaml:2:17"), std::string::npos);
  // A circuit listed twice was recorded twice under one folder name, which training refuses:
  // it is recorded once. Two CSV files of one name cannot be told apart: an error.
  const StudyConfig c = parse_study_config(
      "record:\n  circuits: [many_curves, many_curves]\n  directions: [cw, cw, ccw]\n", "s.yaml");
  EXPECT_EQ(c.record.circuits, (std::vector<std::string>{"many_curves"}));
  EXPECT_EQ(c.record.directions, (std::vector<std::string>{"cw", "ccw"}));
  pitlane::testing::TempDir tmp("study-config-csv");
  std::string csv = "x_m,y_m\n";
  for (int i = 0; i < 60; ++i) {
    csv += std::to_string(40 * std::cos(i * M_PI / 30)) + "," +
           std::to_string(40 * std::sin(i * M_PI / 30)) + "\n";
  }
  std::filesystem::create_directories(tmp.path() / "a");
  std::filesystem::create_directories(tmp.path() / "b");
  write_file_atomic(tmp.path() / "a" / "loop.csv", csv);
  write_file_atomic(tmp.path() / "b" / "loop.csv", csv);
  const std::string a = (tmp.path() / "a" / "loop.csv").string();
  const std::string b = (tmp.path() / "b" / "loop.csv").string();
  EXPECT_NE(error_of("evaluate:\n  circuits: [" + a + ", " + b + "]\n").find("record as 'loop_cw'"),
            std::string::npos);
  // A CSV file that exists but is no centre line failed when the expert started recording.
  write_file_atomic(tmp.path() / "broken.csv", "x_m,y_m\n1,abc\n");
  const std::string broken =
      error_of("drive:\n  circuits: [" + (tmp.path() / "broken.csv").string() + "]\n");
  EXPECT_NE(broken.find("s.yaml:2:14: drive: circuits: "), std::string::npos) << broken;
}

TEST(StudyConfig, RecipeVariantsOverrideTheRecipesParameters) {
  const StudyConfig c = parse_study_config(
      "optimize:\n"
      "  calib_images: 40\n"
      "  recipes:\n"
      "    - int8\n"
      "    - {recipe: int8, name: int8-entropy, calib_method: entropy, calib_images: 300}\n"
      "    - {recipe: prune, name: prune-50, sparsity: 0.5}\n"
      "    - {recipe: prune, name: prune-90, sparsity: 0.9, initial_sparsity: 0.6, "
      "prune_epochs: 4}\n"
      "    - {recipe: pcqat, name: pcqat-16, clusters: 16, qat_epochs: 2, qat_data_fraction: 0.5}\n"
      "    - int8\n",  // the same item twice is optimized once
      "s.yaml");
  ASSERT_EQ(c.optimize.recipes.size(), 5u);
  EXPECT_EQ(c.optimize.recipes[0].name, "int8");
  EXPECT_FALSE(c.optimize.recipes[0].overrides_anything());
  const quant::OptimizeOptions plain = post_training_options(c.optimize.recipes[0], c.optimize);
  EXPECT_EQ(plain.calib_method, "minmax");
  EXPECT_EQ(plain.calib_images, 40);
  const quant::OptimizeOptions entropy = post_training_options(c.optimize.recipes[1], c.optimize);
  EXPECT_EQ(entropy.recipe, "int8");
  EXPECT_EQ(entropy.calib_method, "entropy");
  EXPECT_EQ(entropy.calib_images, 300);
  // Two variants of prune side by side, each with its own schedule.
  const train::TrainingRecipe p50 = training_recipe(c.optimize.recipes[2], c.optimize);
  const train::TrainingRecipe p90 = training_recipe(c.optimize.recipes[3], c.optimize);
  const train::TrainingRecipe prune = train::default_training_recipe("prune");
  EXPECT_EQ(p50.name, "prune");
  EXPECT_DOUBLE_EQ(p50.prune.schedule.target, 0.5);
  EXPECT_DOUBLE_EQ(p50.prune.schedule.initial, std::min(0.5, prune.prune.schedule.initial));
  EXPECT_EQ(p50.prune_epochs, prune.prune_epochs);
  EXPECT_DOUBLE_EQ(p90.prune.schedule.target, 0.9);
  EXPECT_DOUBLE_EQ(p90.prune.schedule.initial, 0.6);
  EXPECT_EQ(p90.prune_epochs, 4);
  EXPECT_EQ(p90.calib_images, 40);
  const train::TrainingRecipe p16 = training_recipe(c.optimize.recipes[4], c.optimize);
  EXPECT_EQ(p16.cluster.clusters, 16);
  EXPECT_EQ(p16.qat_epochs, 2);
  EXPECT_DOUBLE_EQ(p16.qat_data_fraction, 0.5);
  // pcqat prunes to a constant sparsity: its schedule starts at the target.
  EXPECT_DOUBLE_EQ(p16.prune.schedule.initial, p16.prune.schedule.target);
  // The JSON (the optimize stage's key, results.json) keeps a plain recipe a plain name.
  const nlohmann::ordered_json j = to_json(c.optimize)["recipes"];
  EXPECT_EQ(j[0], "int8");
  EXPECT_EQ(j[2].dump(), R"({"recipe":"prune","name":"prune-50","sparsity":0.5})");
  // The auto recipe calibrates as int8 does, and takes nothing a training recipe has.
  EXPECT_EQ(error_of("optimize:\n  recipes: [auto, {recipe: auto, name: auto-entropy, "
                     "calib_method: entropy}]\n"),
            "");
  EXPECT_NE(error_of("optimize:\n  recipes: [{recipe: auto, sparsity: 0.5}]\n")
                .find("sparsity does not apply to recipe 'auto'"),
            std::string::npos);
  // A variant's name is what slowdown_models names.
  EXPECT_EQ(error_of("optimize:\n  recipes: [{recipe: prune, name: p9, sparsity: 0.9}]\n"
                     "drive:\n  slowdown_models: [p9]\n"),
            "");
}

TEST(StudyConfig, RecipeVariantMistakesNameTheLine) {
  auto e = [](const std::string& items) { return error_of("optimize:\n  recipes:\n" + items); };
  EXPECT_NE(e("    - {recipe: cluster, sparsity: 0.5}\n")
                .find("s.yaml:3:35: optimize.recipes[0]: sparsity does not apply to recipe "
                      "'cluster'"),
            std::string::npos);
  EXPECT_NE(e("    - {recipe: float16, calib_images: 5}\n").find("does not apply"),
            std::string::npos);
  EXPECT_NE(e("    - {recipe: pqat, initial_sparsity: 0.2}\n").find("does not apply"),
            std::string::npos);  // pqat prunes at a constant sparsity
  EXPECT_NE(e("    - {recipe: prune, sparsity: 0.5, initial_sparsity: 0.7}\n")
                .find("initial_sparsity 0.7 is above the target sparsity 0.5"),
            std::string::npos);
  EXPECT_NE(e("    - {recipe: prune, sparsity: 1.5}\n").find("sparsity = 1.5 is out of range"),
            std::string::npos);
  EXPECT_NE(e("    - {recipe: cluster, clusters: 300}\n").find("out of range; use 2..255"),
            std::string::npos);
  EXPECT_NE(e("    - {recipe: int8, calib_method: median}\n").find("'median' is unknown"),
            std::string::npos);
  EXPECT_NE(e("    - {name: x}\n").find("s.yaml:3:7: optimize.recipes[0]: needs 'recipe'"),
            std::string::npos);
  EXPECT_NE(e("    - {recipe: prune, sparsty: 0.5}\n").find("unknown key 'sparsty'"),
            std::string::npos);
  EXPECT_NE(e("    - {recipe: int4}\n").find("'int4' is not a recipe"), std::string::npos);
  EXPECT_NE(e("    - [prune]\n").find("each item is a recipe name or a mapping"),
            std::string::npos);
  // Two different variants under one name, and names the study's own files take.
  const std::string clash = e("    - {recipe: prune, sparsity: 0.5}\n    - prune\n");
  EXPECT_NE(clash.find("s.yaml:4:7: optimize: recipes: the name 'prune' is taken by the item at "
                       "line 3"),
            std::string::npos)
      << clash;
  for (const char* name : {"baseline", "expert", "all", "pilotnet", "pilotnet_dagger1", "../x"}) {
    EXPECT_NE(e(std::string("    - {recipe: prune, name: ") + name + "}\n").find("name: '"),
              std::string::npos)
        << name;
  }
}

TEST(StudyConfig, UsersModelsAreOpenedAtLoad) {
  pitlane::testing::TempDir tmp("study-config-models");
  const auto own = test_files::write_constant_model(tmp.path() / "own.onnx", 0.5f, 0.5f, false);
  const auto meta = test_files::write_constant_model(tmp.path() / "meta.onnx", 0.5f, 0.5f, true);
  const StudyConfig c = parse_study_config("models:\n  - {name: own, file: " + own.string() +
                                               "}\n  - name: meta.v2\n    file: " + meta.string() +
                                               "\ndrive:\n  slowdown_models: [own]\n",
                                           "s.yaml");
  ASSERT_EQ(c.models.size(), 2u);
  EXPECT_EQ(c.models[0].name, "own");
  EXPECT_EQ(c.models[1].file, meta.string());
  EXPECT_EQ(to_json(c)["models"][1].dump(),
            R"({"name":"meta.v2","file":")" + meta.string() + R"("})");

  auto e = [](const std::string& item) { return error_of("models:\n  - " + item + "\n"); };
  const std::string missing = e("{name: m, file: /nonexistent/m.onnx}");
  EXPECT_NE(missing.find("s.yaml:2:21: models[0]: file '/nonexistent/m.onnx' does not exist"),
            std::string::npos)
      << missing;
  write_file_atomic(tmp.path() / "junk.onnx", "not a model");
  const std::string junk = e("{name: m, file: " + (tmp.path() / "junk.onnx").string() + "}");
  EXPECT_NE(junk.find("s.yaml:2:21: models[0]: file: "), std::string::npos) << junk;
  EXPECT_NE(junk.find("junk.onnx"), std::string::npos) << junk;
  EXPECT_EQ(junk.find('\n'), std::string::npos) << junk;
  EXPECT_NE(e("{name: m}").find("models[0]: needs 'file'"), std::string::npos);
  EXPECT_NE(e("{file: " + own.string() + "}").find("needs 'name'"), std::string::npos);
  EXPECT_NE(e(own.string()).find("each item is a mapping"), std::string::npos);
  EXPECT_NE(e("{name: baseline, file: " + own.string() + "}").find("taken by the study"),
            std::string::npos);
  EXPECT_NE(e("{name: m, file: " + own.string() + ", recipe: int8}").find("unknown key 'recipe'"),
            std::string::npos);
  // Names are unique among the variants and the users' models.
  EXPECT_NE(error_of("optimize:\n  recipes: [int8]\nmodels:\n  - {name: int8, file: " +
                     own.string() + "}\n")
                .find("s.yaml:4:12: models[0]: name 'int8' is taken"),
            std::string::npos);
  EXPECT_NE(error_of("models:\n  - {name: a, file: " + own.string() +
                     "}\n  - {name: a, file: " + meta.string() + "}\n")
                .find("models[1]: name 'a' is taken"),
            std::string::npos);
}

TEST(StudyConfig, UsersRecordingsAreCheckedAtLoad) {
  pitlane::testing::TempDir tmp("study-config-recordings");
  const auto one = test_files::write_recording(tmp.path() / "laps" / "lap_one", 3);
  test_files::write_recording(tmp.path() / "laps" / "lap_two", 3);
  const auto test = test_files::write_recording(tmp.path() / "test_lap", 3);
  const std::string laps = (tmp.path() / "laps").string();
  const StudyConfig c = parse_study_config(
      "record:\n  recordings: [" + laps + "]\nevaluate:\n  recordings: [" + test.string() + "]\n",
      "s.yaml");
  EXPECT_EQ(c.record.recordings, (std::vector<std::string>{laps}));
  // A folder of recordings expands to its recordings, in name order.
  EXPECT_EQ(expand_recordings(c.record.recordings),
            (std::vector<std::filesystem::path>{one, tmp.path() / "laps" / "lap_two"}));
  // The users' recordings may stand alone when no DAgger round needs circuits to drive.
  EXPECT_EQ(error_of("record:\n  circuits: []\n  recordings: [" + laps +
                     "]\ndagger:\n  rounds: 0\nevaluate:\n  circuits: []\n  recordings: [" +
                     test.string() + "]\n"),
            "");
  EXPECT_NE(error_of("record:\n  circuits: []\n  recordings: [" + laps + "]\n")
                .find("DAgger rounds drive on them"),
            std::string::npos);

  const std::string missing = error_of("record:\n  recordings: [/nonexistent/rec]\n");
  EXPECT_NE(missing.find("s.yaml:2:16: record: recordings: '/nonexistent/rec' does not exist"),
            std::string::npos)
      << missing;
  std::filesystem::create_directories(tmp.path() / "empty");
  const std::string empty =
      error_of("evaluate:\n  recordings:\n    - " + (tmp.path() / "empty").string() + "\n");
  EXPECT_NE(empty.find("s.yaml:3:7: evaluate: recordings: "), std::string::npos) << empty;
  EXPECT_NE(empty.find("no subfolder holds one"), std::string::npos) << empty;
  // A recording whose data.csv names a missing frame fails at load, not in training.
  std::filesystem::remove(one / "2.png");
  EXPECT_NE(
      error_of("record:\n  recordings: [" + laps + "]\n").find("image '2.png' does not exist"),
      std::string::npos);
  test_files::write_recording(one, 3);

  // Recordings are told apart by folder name: not the expert's, not two of the users'.
  const auto clash = test_files::write_recording(tmp.path() / "mine" / "many_curves_cw", 3);
  const std::string expert = error_of("record:\n  recordings: [" + clash.string() + "]\n");
  EXPECT_NE(expert.find("s.yaml:2:16: record.recordings: recording '"), std::string::npos)
      << expert;
  EXPECT_NE(expert.find("has the name of one the expert records ('many_curves_cw')"),
            std::string::npos)
      << expert;
  test_files::write_recording(tmp.path() / "again" / "lap_one", 3);
  const std::string twice =
      error_of("record:\n  recordings: [" + laps + ", " + (tmp.path() / "again").string() + "]\n");
  EXPECT_NE(twice.find("a second recording is named 'lap_one'"), std::string::npos) << twice;
}

TEST(StudyConfig, MissingFileIsAnInputError) {
  EXPECT_THROW((void)load_study_config("/nonexistent/study.yaml"), InputError);
}

TEST(StudyConfig, JsonOmitsOnlySettingsThatCannotChangeResults) {
  StudyConfig a, b;
  b.drive.jobs = 7;  // parallel drives give the same results
  EXPECT_EQ(to_json(a).dump(), to_json(b).dump());
  b.drive.laps = 2;
  EXPECT_NE(to_json(a).dump(), to_json(b).dump());
}

}  // namespace
}  // namespace pitlane::study
