#include "pitlane/study/stage_results.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "../temp_dir.h"
#include "pitlane/core/files.h"
#include "pitlane/study/report.h"
#include "pitlane/study/stage_cache.h"

namespace pitlane::study {
namespace {

using Json = nlohmann::ordered_json;

TrainRun train_run(const std::string& model, double loss) {
  TrainRun r;
  r.model = model;
  r.arch = "pilotnet";
  r.parent = "pilotnet.onnx sha256:ab12";
  r.training_data = {"many_curves_cw", "many_curves_cw_perturbed"};
  r.validation_data = {"nurburgring_cw"};
  r.best_epoch = 2;
  r.best_validation_mse = loss;
  r.epochs = {{.epoch = 1, .train_loss = 0.1, .validation_loss = 0.2},
              {.epoch = 2, .train_loss = 1.0 / 3.0, .validation_loss = loss}};
  r.decode_s = 4.25;
  r.total_s = 17.0000001;
  r.epoch_times = {{.epoch = 1, .seconds = 6.5, .images_per_s = 51.72965273120419},
                   {.epoch = 2, .seconds = 6.25, .images_per_s = 49.0}};
  return r;
}

// Every field of every stage set, with values that need all their digits.
StudyStages full_stages() {
  StudyStages s;
  s.record = {.train_recordings = {"data/train/plain/many_curves_cw",
                                   "data/train/perturbed/many_curves_cw_perturbed"},
              .test_recordings = {"data/test/simple_circuit_cw"},
              .stage_s = 21.37725934};
  s.train = {.run = train_run("models/pilotnet.onnx", 0.12978363811969756), .stage_s = 45.2};
  s.dagger = {.initial_model = "models/pilotnet.onnx",
              .model = "models/pilotnet_dagger1.onnx",
              .rounds = {{.run = train_run("models/pilotnet_dagger1.onnx", 0.016173006176948546),
                          .recordings = {"data/dagger1/many_curves_cw_dagger"}}},
              .stage_s = 20.154423947};
  s.optimize = {.models = {{.name = "int8",
                            .file = "models/int8.onnx",
                            .recipe = "int8",
                            .report = "models/int8.report.json",
                            .worst_layers = {"conv1", "conv2", "conv4"}},
                           {.name = "pcqat",
                            .file = "models/pcqat.onnx",
                            .recipe = "pcqat",
                            .report = "models/pcqat.report.json",
                            .fine_tuned = true,
                            .sparsity = 0.5,
                            .phase_seconds = {12.10829573, 12.190374053, 6.154897269}}},
                .stage_s = 39.7};
  for (const auto& [model, file] : std::vector<std::pair<std::string, std::string>>{
           {"baseline", "models/pilotnet_dagger1.onnx"}, {"int8", "models/int8.onnx"}}) {
    s.evaluate.offline.push_back({.model = model,
                                  .recipe = model,
                                  .file = file,
                                  .sha256 = std::string(64, 'e'),
                                  .bytes = 6385130,
                                  .gzip_bytes = 5858573,
                                  .frames = 150,
                                  .mse = 0.019383441444418965,
                                  .mae = 0.10643942101548116,
                                  .mse_v = 0.03258685841735051,
                                  .mse_w = 0.00618002447148743,
                                  .mae_v_mps = 2.5707262492698097,
                                  .mae_w_radps = 0.9369188230133828,
                                  .per_recording = {{.recording = "simple_circuit_cw",
                                                     .mse = 0.019383441444418965,
                                                     .mae_w = 0.9369188230133828}},
                                  .seconds = 0.792955692,
                                  .images_per_s = 189.1656766113484});
  }
  s.evaluate.stage_s = 5.28;
  for (const std::string model : {"expert", "baseline", "int8"}) {
    s.benchmark.latency.push_back({.model = model,
                                   .latency_ms = 10.0,
                                   .measured = {.runs = 50,
                                                .median_ms = 0.25481,
                                                .p90_ms = 0.2738974,
                                                .p99_ms = 4.3165977700000004,
                                                .min_ms = 0.206862,
                                                .max_ms = 4.32009}});
  }
  s.benchmark.stage_s = 0.947276767;
  for (double slowdown : {1.0, 30.0}) {
    s.drive.runs.push_back({.model = "baseline",
                            .slowdown = slowdown,
                            .circuit = "simple_circuit",
                            .direction = "cw",
                            .repetition = 1,
                            .trajectory = slowdown == 1.0 ? "drives/baseline_x1.csv.gz" : "",
                            .metrics = {{"termination", "timeout"},
                                        {"completed_fraction", 0.42297478472574984},
                                        {"driving_score", 29.608234930802487},
                                        {"infractions_per_km", 0.0},
                                        {"suddenness", 0.012},
                                        {"average_speed_mps", 9.06251287441685},
                                        {"deviation_mean_m", 0.03207856572652787},
                                        {"deviation_max_m", 0.11944602825522138},
                                        {"bm_deviation_score", 1.2435097514359648},
                                        {"brain_hz", 20.0},
                                        {"inference_ms_p50", 10.0},
                                        {"wall_contacts", 0},
                                        {"lap_times_s", Json::array()}},
                            .wall_clock = {{"wall_time_s", 3.50204655}, {"frames_rendered", 400}}});
  }
  s.drive.stage_s = 18.077488596;
  return s;
}

// `result` written, read back and written again, through text as the cache stores it.
template <typename Result>
std::string round_trip(const Result& result, Result& back) {
  const std::string text = to_json(result).dump(2);
  from_json(Json::parse(text), back);
  return to_json(back).dump(2);
}

template <typename Result>
void expect_round_trip(const Result& result) {
  Result back;
  const std::string text = to_json(result).dump(2);
  EXPECT_EQ(round_trip(result, back), text);
}

TEST(StudyStages, EveryStageRoundTripsThroughJsonToTheByte) {
  const StudyStages s = full_stages();
  expect_round_trip(s.record);
  expect_round_trip(s.train);
  expect_round_trip(s.dagger);
  expect_round_trip(s.optimize);
  expect_round_trip(s.evaluate);
  expect_round_trip(s.benchmark);
  expect_round_trip(s.drive);
}

TEST(StudyStages, FieldsComeBackAsTheyWere) {
  const StudyStages s = full_stages();
  TrainResult train;
  round_trip(s.train, train);
  EXPECT_EQ(train.run.model, "models/pilotnet.onnx");
  EXPECT_EQ(train.run.validation_data, s.train.run.validation_data);
  EXPECT_EQ(train.run.best_validation_mse, s.train.run.best_validation_mse);  // exactly
  ASSERT_EQ(train.run.epochs.size(), 2u);
  EXPECT_EQ(train.run.epochs[1].train_loss, 1.0 / 3.0);
  EXPECT_EQ(train.run.epoch_times[0].images_per_s, 51.72965273120419);
  EXPECT_EQ(train.stage_s, 45.2);

  OptimizeResult optimize;
  round_trip(s.optimize, optimize);
  ASSERT_EQ(optimize.models.size(), 2u);
  EXPECT_FALSE(optimize.models[0].fine_tuned);
  EXPECT_EQ(optimize.models[0].worst_layers, s.optimize.models[0].worst_layers);
  EXPECT_TRUE(optimize.models[1].fine_tuned);
  EXPECT_EQ(optimize.models[1].sparsity, 0.5);
  EXPECT_EQ(optimize.models[1].phase_seconds, s.optimize.models[1].phase_seconds);

  EvaluateResult evaluate;
  round_trip(s.evaluate, evaluate);
  EXPECT_EQ(evaluate.offline[1].bytes, 6385130);
  EXPECT_EQ(evaluate.offline[1].mae_w_radps, 0.9369188230133828);
  EXPECT_EQ(evaluate.offline[1].per_recording[0].recording, "simple_circuit_cw");

  BenchmarkResult benchmark;
  round_trip(s.benchmark, benchmark);
  EXPECT_EQ(benchmark.latency[2].model, "int8");
  EXPECT_EQ(benchmark.latency[2].measured.runs, 50);
  EXPECT_EQ(benchmark.latency[2].measured.p99_ms, 4.3165977700000004);

  DriveResult drive;
  round_trip(s.drive, drive);
  EXPECT_EQ(drive.runs[1].slowdown, 30.0);
  EXPECT_EQ(drive.runs[1].metrics.dump(), s.drive.runs[1].metrics.dump());
}

TEST(StudyStages, LossesWithoutValidationRoundTripAsNull) {
  TrainResult t{.run = train_run("models/m.onnx", std::numeric_limits<double>::infinity())};
  t.run.epochs[0].validation_loss = std::nan("");
  const Json j = Json::parse(to_json(t).dump());  // as the cache reads it back
  EXPECT_TRUE(j["best_validation_mse"].is_null());
  EXPECT_TRUE(j["epochs"][0]["validation_loss"].is_null());
  TrainResult back;
  EXPECT_EQ(round_trip(t, back), j.dump(2));
  EXPECT_TRUE(std::isnan(back.run.best_validation_mse));
}

TEST(StudyStages, FilesListWhatTheStageWrote) {
  const StudyStages s = full_stages();
  EXPECT_EQ(to_json(s.record)["files"],
            Json({"data/train/plain/many_curves_cw",
                  "data/train/perturbed/many_curves_cw_perturbed", "data/test/simple_circuit_cw"}));
  EXPECT_EQ(to_json(s.train)["files"], Json({"models/pilotnet.onnx"}));
  EXPECT_EQ(to_json(s.dagger)["files"],
            Json({"models/pilotnet.onnx", "data/dagger1/many_curves_cw_dagger",
                  "models/pilotnet_dagger1.onnx"}));
  EXPECT_EQ(to_json(s.optimize)["files"], Json({"models/int8.onnx", "models/int8.report.json",
                                                "models/pcqat.onnx", "models/pcqat.report.json"}));
  // Drives list the trajectories they wrote.
  EXPECT_EQ(to_json(s.drive)["files"], Json({"drives/baseline_x1.csv.gz"}));
}

TEST(StudyStages, AMissingFieldIsAJsonError) {
  Json j = to_json(full_stages().train);
  j.erase("best_epoch");
  TrainResult t;
  EXPECT_THROW(from_json(j, t), nlohmann::json::exception);
  Json d = to_json(full_stages().drive);
  d["runs"][0]["slowdown"] = "fast";
  DriveResult r;
  EXPECT_THROW(from_json(d, r), nlohmann::json::exception);
}

// What the study does on a rerun: each stage's result comes back from the cache's file, and
// results.json must be the same bytes as when every stage ran.
TEST(StudyStages, ResultsFromCachedStagesAreTheSameBytes) {
  testing::TempDir tmp("stage-results");
  const StageCache cache(tmp.path() / "stages", "");
  const StudyStages s = full_stages();
  auto through_cache = [&](const std::string& stage, const auto& result, auto& back) {
    const Json j = to_json(result);
    for (const auto& f : j.value("files", Json::array())) {  // the stage's outputs exist
      const auto path = tmp.path() / f.get<std::string>();
      std::filesystem::create_directories(path.parent_path());
      write_file_atomic(path, "x");
    }
    cache.store(stage, "k", j);
    const auto hit = cache.lookup(stage, "k");
    ASSERT_TRUE(hit.has_value()) << stage;
    from_json(*hit, back);
  };
  StudyStages cached;
  through_cache("record", s.record, cached.record);
  through_cache("train", s.train, cached.train);
  through_cache("dagger", s.dagger, cached.dagger);
  through_cache("optimize", s.optimize, cached.optimize);
  through_cache("evaluate", s.evaluate, cached.evaluate);
  through_cache("benchmark", s.benchmark, cached.benchmark);
  through_cache("drive", s.drive, cached.drive);
  const Json wall = {{"total_s", 1.5}};
  const Json fresh = build_results(StudyConfig{}, s, wall);
  EXPECT_EQ(build_results(StudyConfig{}, cached, wall).dump(2), fresh.dump(2));
  EXPECT_EQ(results_markdown(build_results(StudyConfig{}, cached, wall)), results_markdown(fresh));
  // The report copies the stages' own JSON: the training summary and every run as stored.
  EXPECT_EQ(fresh["training"]["dagger_rounds"][0].dump(), to_json(s.dagger.rounds[0]).dump());
  EXPECT_FALSE(fresh["training"]["initial"].contains("files"));
  EXPECT_EQ(fresh["closed_loop"][1].dump(), to_json(s.drive.runs[1]).dump());
  EXPECT_EQ(fresh["wall_clock"]["stage_s"]["drive"], 18.077488596);
}

}  // namespace
}  // namespace pitlane::study
