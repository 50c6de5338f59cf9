#include "pitlane/report/compare.h"

#include <gtest/gtest.h>

namespace pitlane::report {
namespace {

using Json = nlohmann::ordered_json;

Json page(double mse, double score_low, double score, double score_high, const char* verdict) {
  return {{"config", {{"name", "a"}, {"drive", {{"slowdowns", {1, 30}}, {"timing", "benchmark"}}}}},
          {"code_version", "pitlane 0.1.0\ncommit abc\n"},
          {"metric_version", "pitlane-ds/1"},
          {"offline",
           {{{"model", "baseline"}, {"mse", 0.01}, {"bytes", 6e6}},
            {{"model", "int8"}, {"mse", mse}, {"bytes", 1.6e6}}}},
          {"closed_loop",
           {{"rows",
             {{{"model", "int8"},
               {"slowdown", 1.0},
               {"episodes", 4},
               {"driving_score", {{"estimate", score}, {"low", score_low}, {"high", score_high}}},
               {"vs_baseline", {{"verdict", verdict}}}}}}}}};
}

const Json* find(const Json& diffs, const std::string& section, const std::string& key,
                 const std::string& field) {
  for (const auto& d : diffs) {
    if (d["section"] == section && d["key"] == key && d["field"] == field) return &d;
  }
  return nullptr;
}

TEST(ReportCompare, TheSameRunHasNoDifferences) {
  const Json a = page(0.02, 70, 80, 90, "equal");
  EXPECT_TRUE(differences(a, a).empty());
}

TEST(ReportCompare, NamesEveryChangedValue) {
  const Json a = page(0.02, 70, 80, 90, "equal");
  Json b = page(0.03, 20, 30, 40, "worse");
  b["config"]["drive"]["slowdowns"] = {1, 30, 150};
  b["config"]["drive"]["timing"] = "fixed:60";
  b["code_version"] = "pitlane 0.1.0\ncommit def\n";
  b["offline"].push_back({{"model", "bf16"}, {"mse", 0.02}});
  const Json d = differences(a, b);

  const Json* timing = find(d, "config", "drive.timing", "value");
  ASSERT_TRUE(timing);
  EXPECT_EQ((*timing)["a"], "benchmark");
  EXPECT_EQ((*timing)["b"], "fixed:60");
  const Json* added = find(d, "config", "drive.slowdowns[2]", "value");
  ASSERT_TRUE(added);
  EXPECT_TRUE((*added)["a"].is_null());
  EXPECT_TRUE(find(d, "version", "code_version", "code_version"));
  EXPECT_FALSE(find(d, "version", "metric_version", "metric_version"));

  const Json* mse = find(d, "offline", "int8", "mse");
  ASSERT_TRUE(mse);
  EXPECT_EQ((*mse)["b"], 0.03);
  EXPECT_FALSE(find(d, "offline", "baseline", "mse"));
  const Json* only_b = find(d, "offline", "bf16", "present");
  ASSERT_TRUE(only_b);
  EXPECT_TRUE((*only_b)["a"].is_null());

  const Json* score = find(d, "closed_loop", "int8", "driving_score");
  ASSERT_TRUE(score);
  EXPECT_EQ((*score)["a"], 80.0);
  EXPECT_TRUE((*score)["separated"].get<bool>());  // [70, 90] and [20, 40] do not overlap
  const Json* verdict = find(d, "closed_loop", "int8", "verdict");
  ASSERT_TRUE(verdict);
  EXPECT_EQ((*verdict)["b"], "worse");
}

TEST(ReportCompare, OverlappingIntervalsAreNotSeparated) {
  const Json d = differences(page(0.02, 70, 80, 90, "equal"), page(0.02, 75, 85, 95, "equal"));
  ASSERT_EQ(d.size(), 1u);
  EXPECT_FALSE(d[0]["separated"].get<bool>());
}

TEST(ReportCompare, FlattenNamesLeavesByPath) {
  const Json f = flatten({{"a", {{"b", 1}, {"c", {2, 3}}}}, {"d", Json::object()}});
  EXPECT_EQ(f, Json({{"a.b", 1}, {"a.c[0]", 2}, {"a.c[1]", 3}, {"d", Json::object()}}));
}

}  // namespace
}  // namespace pitlane::report
