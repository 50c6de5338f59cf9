#include "pitlane/study/report.h"

#include <gtest/gtest.h>

#include <cmath>

namespace pitlane::study {
namespace {

using Json = nlohmann::ordered_json;

DriveRun run(const std::string& model, double slowdown, const std::string& termination,
             double fraction, double speed, double deviation, int contacts, int repetition = 0,
             double score = -1) {
  return {.model = model,
          .slowdown = slowdown,
          .circuit = "simple_circuit",
          .direction = "cw",
          .repetition = repetition,
          .metrics = {{"termination", termination},
                      {"completed_fraction", fraction},
                      {"driving_score", score >= 0 ? score : 100 * fraction},
                      {"infractions_per_km", 0.5 * contacts},
                      {"suddenness", 0.01},
                      {"average_speed_mps", speed},
                      {"deviation_mean_m", deviation},
                      {"deviation_max_m", 2 * deviation},
                      {"bm_deviation_score", 1.5},
                      {"brain_hz", 20.0},
                      {"inference_ms_p50", 1.0},
                      {"wall_contacts", contacts}},
          .wall_clock = {{"wall_time_s", 3.0}}};
}

StudyStages stages() {
  StudyStages s;
  s.train.run.model = "models/pilotnet.onnx";
  s.dagger.initial_model = "models/pilotnet.onnx";
  s.dagger.model = "models/pilotnet.onnx";
  s.evaluate.offline = {{.model = "baseline",
                         .recipe = "baseline",
                         .bytes = 6'000'000,
                         .gzip_bytes = 5'000'000,
                         .mse = 0.01,
                         .mae = 0.05,
                         .mae_w_radps = 0.3,
                         .seconds = 1.0}};
  s.benchmark.latency = {{.model = "baseline", .latency_ms = 1.0, .measured = {.median_ms = 0.8}}};
  s.drive.runs = {run("baseline", 1, "completed", 1.0, 8.0, 0.2, 0),
                  run("baseline", 1, "timeout", 0.5, 6.0, 0.4, 1),
                  run("baseline", 30, "trapped", 0.1, 2.0, 1.0, 3)};
  return s;
}

TEST(StudyReport, SummaryAggregatesRepetitionsPerModelAndSlowdown) {
  const Json r = build_results(StudyConfig{}, stages(), {{"total_s", 1.0}});
  const Json& sum = r["closed_loop_summary"];
  ASSERT_EQ(sum.size(), 2u);
  EXPECT_EQ(sum[0]["runs"], 2);
  EXPECT_EQ(sum[0]["completed_runs"], 1);
  EXPECT_DOUBLE_EQ(sum[0]["completed_fraction_mean"].get<double>(), 0.75);
  EXPECT_DOUBLE_EQ(sum[0]["average_speed_mps"].get<double>(), 7.0);
  EXPECT_NEAR(sum[0]["deviation_mean_m"].get<double>(), 0.3, 1e-12);
  EXPECT_DOUBLE_EQ(sum[0]["deviation_max_m"].get<double>(), 0.8);
  EXPECT_EQ(sum[0]["wall_contacts"], 1);
  EXPECT_EQ(sum[1]["slowdown"], 30.0);
  EXPECT_EQ(sum[1]["completed_runs"], 0);
  // The offline row carries the latency the drives used, the measured one under wall_clock.
  EXPECT_EQ(r["offline"][0]["latency_ms"], 1.0);
  EXPECT_EQ(r["offline"][0]["wall_clock"]["latency"]["median_ms"], 0.8);
}

// Verdicts: five paired episodes per variant. int8 scores 20 points lower on every episode
// (worse); pruned differs by -3, +4, -2, +3, -1 (the interval spans zero: equal). Completion
// k/N with its Wilson interval; the baseline itself has no comparison.
TEST(StudyReport, VerdictsPairEpisodesWithTheBaseline) {
  StudyStages s = stages();
  s.drive.runs.clear();
  const double base[] = {80, 90, 70, 85, 75}, noise[] = {-3, 4, -2, 3, -1};
  for (int rep = 0; rep < 5; ++rep) {
    s.drive.runs.push_back(run("baseline", 1, "completed", 1.0, 8, 0.1, 0, rep, base[rep]));
    s.drive.runs.push_back(run("int8", 1, rep == 2 ? "trapped" : "completed", rep == 2 ? 0.4 : 1, 8,
                               0.1, 1, rep, base[rep] - 20));
    s.drive.runs.push_back(
        run("pruned", 1, "completed", 1.0, 8, 0.1, 0, rep, base[rep] + noise[rep]));
  }
  const Json r = build_results(StudyConfig{}, s, {});
  EXPECT_EQ(r["metric_version"], "pitlane-ds/1");
  const Json& v = r["closed_loop_verdicts"];
  ASSERT_EQ(v.size(), 3u);
  EXPECT_EQ(v[0]["model"], "baseline");
  EXPECT_FALSE(v[0].contains("vs_baseline"));
  EXPECT_DOUBLE_EQ(v[0]["driving_score"]["estimate"].get<double>(), 80.0);
  EXPECT_EQ(v[1]["model"], "int8");
  EXPECT_EQ(v[1]["episodes"], 5);
  EXPECT_EQ(v[1]["completed"], 4);
  EXPECT_DOUBLE_EQ(v[1]["completion"]["estimate"].get<double>(), 0.8);
  EXPECT_NEAR(v[1]["completion"]["low"].get<double>(), 0.37553, 1e-4);
  EXPECT_EQ(v[1]["vs_baseline"]["verdict"], "worse");
  EXPECT_EQ(v[1]["vs_baseline"]["pairs"], 5);
  EXPECT_DOUBLE_EQ(v[1]["vs_baseline"]["difference"]["estimate"].get<double>(), -20.0);
  EXPECT_EQ(v[2]["vs_baseline"]["verdict"], "equal");
  EXPECT_NEAR(v[2]["vs_baseline"]["difference"]["estimate"].get<double>(), 0.2, 1e-12);
  // The driving score's t interval over five episodes: 80 +- 2.776 * 7.9057 / sqrt(5).
  EXPECT_NEAR(v[0]["driving_score"]["high"].get<double>(), 80 + 2.776445 * 7.905694 / std::sqrt(5),
              1e-4);
  const std::string md = results_markdown(r);
  EXPECT_NE(md.find("## Closed loop: verdicts (pitlane-ds/1"), std::string::npos) << md;
  EXPECT_NE(md.find("| worse"), std::string::npos) << md;
  EXPECT_NE(md.find("4/5"), std::string::npos) << md;
}

TEST(StudyReport, TablesShowEveryModelAndDevice) {
  const Json r = build_results(StudyConfig{}, stages(), {});
  const std::string text = results_tables(r, false);
  const size_t first = text.find("Closed loop: simple_circuit");
  EXPECT_NE(first, std::string::npos);
  EXPECT_EQ(text.find("Closed loop: simple_circuit", first + 1), std::string::npos);  // one table
  EXPECT_NE(text.find("x30"), std::string::npos);
  EXPECT_NE(text.find("1/2"), std::string::npos);
  EXPECT_NE(text.find("6.00"), std::string::npos);  // size MB
  const std::string md = results_markdown(r);
  EXPECT_NE(md.find("| baseline"), std::string::npos);
  EXPECT_NE(md.find("## Offline"), std::string::npos);
}

TEST(StudyReport, WithoutWallClockDropsOnlyThoseKeys) {
  const Json j = {{"a", 1}, {"wall_clock", 2}, {"list", {{{"b", 3}, {"wall_clock", {{"c", 4}}}}}}};
  const Json stripped = without_wall_clock(j);
  EXPECT_EQ(stripped.dump(), R"({"a":1,"list":[{"b":3}]})");
}

}  // namespace
}  // namespace pitlane::study
