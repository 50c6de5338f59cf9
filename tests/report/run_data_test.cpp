#include "pitlane/report/run_data.h"

#include <gtest/gtest.h>

#include "../temp_dir.h"
#include "pitlane/core/error.h"
#include "pitlane/core/files.h"
#include "pitlane/core/stats.h"

namespace pitlane::report {
namespace {

Json run(const std::string& model, double slowdown, int repetition, double score,
         const std::string& termination, double latency_ms) {
  return {{"model", model},
          {"slowdown", slowdown},
          {"circuit", "simple_circuit"},
          {"direction", "cw"},
          {"repetition", repetition},
          {"metrics",
           {{"termination", termination},
            {"driving_score", score},
            {"driving_score_version", "pitlane-ds/1"},
            {"average_speed_mps", score / 10},
            {"deviation_mean_m", 0.1},
            {"infractions_per_km", 0.0},
            {"inference_ms_p50", latency_ms}}}};
}

Json results_without_verdicts() {
  Json r = {{"study", "t"}, {"config", Json::object()}};
  r["offline"] = Json::array(
      {{{"model", "baseline"},
        {"recipe", "baseline"},
        {"bytes", 6e6},
        {"latency_ms", 10.0},
        {"wall_clock", {{"latency", {{"median_ms", 0.5}, {"runs", 50}}}}}},
       {{"model", "int8"}, {"recipe", "int8"}, {"bytes", 1.6e6}, {"latency_ms", 10.0}}});
  r["closed_loop"] = Json::array(
      {run("expert", 1, 0, 100, "completed", 10), run("baseline", 1, 0, 80, "completed", 10),
       run("baseline", 1, 1, 60, "timeout", 10), run("baseline", 30, 0, 10, "trapped", 300),
       run("baseline", 30, 1, 20, "trapped", 300), run("int8", 1, 0, 90, "completed", 10),
       run("int8", 1, 1, 70, "completed", 10)});
  return r;
}

TEST(ReportRunData, ClosedLoopFallsBackToIntervalsFromTheRuns) {
  const Json table = closed_loop_table(results_without_verdicts());
  EXPECT_EQ(table["source"], "closed_loop");
  ASSERT_EQ(table["rows"].size(), 4u);  // expert, baseline x1, baseline x30, int8
  const Json& base = table["rows"][1];
  EXPECT_EQ(base["model"], "baseline");
  EXPECT_EQ(base["slowdown"], 1.0);
  EXPECT_EQ(base["episodes"], 2);
  EXPECT_EQ(base["completed"], 1);
  const std::vector<double> scores = {80, 60};
  const Interval ds = mean_interval(scores, 0.95);
  EXPECT_DOUBLE_EQ(base["driving_score"]["estimate"].get<double>(), 70.0);
  EXPECT_DOUBLE_EQ(base["driving_score"]["low"].get<double>(), ds.low);
  EXPECT_DOUBLE_EQ(base["driving_score"]["high"].get<double>(), ds.high);
  const Interval done = wilson_interval(1, 2, 0.95);
  EXPECT_DOUBLE_EQ(base["completion"]["low"].get<double>(), done.low);
  EXPECT_FALSE(base.contains("vs_baseline"));  // no verdicts are made up
  EXPECT_EQ(table["rows"][2]["slowdown"], 30.0);
  EXPECT_EQ(metric_version(results_without_verdicts()), "pitlane-ds/1");
}

TEST(ReportRunData, ClosedLoopTakesTheStudysVerdictsWhenThere) {
  Json r = results_without_verdicts();
  r["metric_version"] = "pitlane-ds/2";
  r["closed_loop_verdicts"] =
      Json::array({{{"model", "int8"},
                    {"slowdown", 1.0},
                    {"driving_score", {{"estimate", 80.0}, {"low", 70.0}, {"high", 90.0}}},
                    {"vs_baseline",
                     {{"difference", {{"estimate", 10.0}, {"low", 5.0}, {"high", 15.0}}},
                      {"pairs", 2},
                      {"verdict", "better"}}}}});
  const Json table = closed_loop_table(r);
  EXPECT_EQ(table["source"], "closed_loop_verdicts");
  EXPECT_EQ(table["rows"], r["closed_loop_verdicts"]);
  EXPECT_EQ(metric_version(r), "pitlane-ds/2");
}

TEST(ReportRunData, ParetoPointsUseTheAppliedLatencyAndTheModelSize) {
  const Json r = results_without_verdicts();
  const Json points = pareto_points(r, closed_loop_table(r));
  ASSERT_EQ(points.size(), 3u);  // the expert has no size
  EXPECT_EQ(points[0]["label"], "baseline");
  EXPECT_EQ(points[1]["label"], "baseline x30");
  EXPECT_DOUBLE_EQ(points[1]["latency_ms"].get<double>(), 300.0);
  EXPECT_EQ(points[2]["label"], "int8");
  // int8 is as fast, better and smaller than the baseline; the slow baseline is beaten.
  EXPECT_FALSE(points[0]["front"].get<bool>());
  EXPECT_FALSE(points[1]["front"].get<bool>());
  EXPECT_TRUE(points[2]["front"].get<bool>());
}

TEST(ReportRunData, LatencyTableKeepsTheSummaryAndTheFixedLatency) {
  Json r = results_without_verdicts();
  r["expert_latency"] = {{"latency_ms", 10.0}, {"wall_clock", {{"median_ms", 0.2}}}};
  const Json rows = latency_table(r);
  ASSERT_EQ(rows.size(), 2u);  // int8 has no measured summary
  EXPECT_EQ(rows[0]["model"], "expert");
  EXPECT_EQ(rows[1]["model"], "baseline");
  EXPECT_EQ(rows[1]["median_ms"], 0.5);
  EXPECT_EQ(rows[1]["fixed_ms"], 10.0);
}

TEST(ReportRunData, TrajectoryProgressIsUnwrappedOverTheLapAndStrided) {
  // A car crossing the start line: s runs 95 -> 99, then 3 -> 7 on a 100 m circuit.
  std::vector<sim::TrajectorySample> samples;
  for (int i = 0; i < 9; ++i) {
    sim::TrajectorySample s;
    s.t_s = 0.05 * i;
    s.s_m = std::fmod(95.0 + i, 100.0);
    s.x_m = 1.234567 * i;
    s.lateral_m = -0.0123456;
    samples.push_back(s);
  }
  const Json all = trajectory_series(samples, 100.0, 100);
  ASSERT_EQ(all["progress"].size(), 9u);
  for (int i = 0; i < 9; ++i) EXPECT_DOUBLE_EQ(all["progress"][i].get<double>(), i);
  EXPECT_DOUBLE_EQ(all["x"][1].get<double>(), 1.23);  // centimetres are enough for a map
  EXPECT_DOUBLE_EQ(all["lateral"][0].get<double>(), -0.012);

  const Json few = trajectory_series(samples, 100.0, 4);  // stride 3: samples 0, 3, 6 and the last
  EXPECT_EQ(few["progress"], Json::array({0.0, 3.0, 6.0, 8.0}));
}

TEST(ReportRunData, CentreLineIsTheCircuitsOwn) {
  const Json line = centre_line("simple_circuit", "cw", 1.0);
  EXPECT_GT(line.size(), 300u);          // about 430 m, a point a metre
  EXPECT_EQ(line.front(), line.back());  // closed
}

TEST(ReportRunData, ResultsThatAreNotAStudysAreOneLineInputErrors) {
  testing::TempDir dir("report-results");
  try {
    (void)read_results(dir.path());
    FAIL() << "no error for a folder without results.json";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find((dir.path() / "results.json").string()),
              std::string::npos);
    EXPECT_NE(std::string(e.what()).find("pitlane study"), std::string::npos);
  }
  write_file_atomic(dir.path() / "results.json", "{\"study\": ");
  EXPECT_THROW((void)read_results(dir.path()), InputError);
  write_file_atomic(dir.path() / "results.json", "{\"study\": \"x\", \"config\": {}}");
  try {
    (void)read_results(dir.path());
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("'offline'"), std::string::npos);
  }
}

TEST(ReportRunData, QuantizationReportsAreReadBesideTheirModels) {
  testing::TempDir dir("report-quant");
  std::filesystem::create_directories(dir.path() / "models");
  write_file_atomic(dir.path() / "models" / "int8.report.json",
                    R"({"layers": [{"layer": "conv1", "sqnr_db": 38.4, "cosine": 0.9999,
                        "max_abs_error": 0.03, "own_sqnr_db": 41.0, "precision": "int8"}],
                        "worst_layers": ["conv1"]})");
  write_file_atomic(dir.path() / "models" / "prune.report.json",
                    R"({"layers": [{"layer": "dense1", "sparsity": 0.8, "weights": 100}],
                        "sparsity": 0.8})");
  Json r = results_without_verdicts();
  r["offline"] =
      Json::array({{{"model", "baseline"}, {"recipe", "baseline"}, {"file", "models/b.onnx"}},
                   {{"model", "int8"}, {"recipe", "int8"}, {"file", "models/int8.onnx"}},
                   {{"model", "prune"}, {"recipe", "prune"}, {"file", "models/prune.onnx"}},
                   {{"model", "gone"}, {"recipe", "int8"}, {"file", "models/gone.onnx"}}});
  const Json q = quantization_layers(dir.path(), r);
  ASSERT_EQ(q.size(), 2u);  // the baseline has no report, "gone" has none on disk
  EXPECT_EQ(q[0]["model"], "int8");
  EXPECT_EQ(q[0]["error_layers"][0]["sqnr_db"], 38.4);
  EXPECT_EQ(q[0]["error_layers"][0]["own_sqnr_db"], 41.0);  // newer reports' figures pass through
  EXPECT_EQ(q[0]["error_layers"][0]["precision"], "int8");
  EXPECT_EQ(q[0]["worst_layers"], Json::array({"conv1"}));
  EXPECT_EQ(q[1]["model"], "prune");
  EXPECT_TRUE(q[1]["error_layers"].empty());
  EXPECT_EQ(q[1]["sparsity_layers"][0]["sparsity"], 0.8);
}

}  // namespace
}  // namespace pitlane::report
