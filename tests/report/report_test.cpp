#include "pitlane/report/report.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "../temp_dir.h"
#include "fixture_run.h"
#include "pitlane/core/error.h"

namespace pitlane::report {
namespace {

using Json = nlohmann::ordered_json;
namespace fs = std::filesystem;

// The data the page's script draws, read back out of the HTML.
Json page_data(const fs::path& html_file) {
  const std::string html = read_file(html_file);
  const std::string open = "<script type=\"application/json\" id=\"pitlane-data\">";
  const size_t begin = html.find(open);
  const size_t end = html.find("</script>", begin);
  if (begin == std::string::npos || end == std::string::npos) return nullptr;
  return Json::parse(html.substr(begin + open.size(), end - begin - open.size()));
}

// Where the pages go: PITLANE_REPORT_PAGES (the browser test opens them) or a temporary folder.
fs::path pages_dir(const testing::TempDir& temp) {
  const char* env = std::getenv("PITLANE_REPORT_PAGES");
  return env && *env ? fs::path(env) : temp.path() / "pages";
}

bool has_note(const Json& run, const std::string& start) {
  for (const auto& n : run["notes"])
    if (n.get<std::string>().starts_with(start)) return true;
  return false;
}

TEST(ReportPage, WritesFixturePage) {
  testing::TempDir temp("report-page");
  fixture::write_run(temp.path() / "run", "fixture");
  const fs::path out = pages_dir(temp) / "fixture-report.html";
  const ReportResult r =
      write_report(temp.path() / "run",
                   {.out = out, .code_version = "pitlane 0.1.0\ncommit test\n", .videos = 2});
  EXPECT_EQ(r.out, out);
  EXPECT_EQ(r.videos, 2);
  EXPECT_EQ(r.replays, 2);
  EXPECT_EQ(r.replay_mismatches, 0);
  EXPECT_EQ(r.bytes, fs::file_size(out));
  EXPECT_FALSE(
      fs::exists(out.parent_path() / (".fixture-report.html.partial-" + std::to_string(getpid()))));

  const Json data = page_data(out);
  ASSERT_TRUE(data.is_object());
  EXPECT_EQ(data["kind"], "report");
  const Json& run = data["runs"][0];
  EXPECT_EQ(run["name"], "fixture");
  EXPECT_EQ(run["metric_version"], "pitlane-ds/1");
  EXPECT_EQ(run["code_version"], "pitlane 0.1.0\ncommit test\n");
  EXPECT_EQ(run["closed_loop"]["source"], "closed_loop_verdicts");
  EXPECT_EQ(run["closed_loop"]["rows"][2]["vs_baseline"]["verdict"], "equal");
  // Every model's repetition 0 is drawn from its stored trajectory.
  ASSERT_EQ(run["circuits"].size(), 1u);
  const Json& circuit = run["circuits"][0];
  EXPECT_EQ(circuit["circuit"], "simple_circuit");
  ASSERT_EQ(circuit["runs"].size(), 3u);
  for (const auto& s : circuit["runs"]) {
    EXPECT_EQ(s["source"], "results");
    EXPECT_EQ(s["x"].size(), 80u);  // 4 s at 20 Hz
  }
  // The baseline, then the variant; the expert is not filmed.
  ASSERT_EQ(run["videos"].size(), 2u);
  EXPECT_EQ(run["videos"][0]["model"], "baseline");
  EXPECT_EQ(run["videos"][1]["model"], "int8");
  for (const auto& v : run["videos"]) {
    EXPECT_TRUE(v["matches_results"].get<bool>()) << v["difference"];
    EXPECT_FALSE(v["data"].get<std::string>().empty());
  }
  EXPECT_EQ(run["quantization"][0]["error_layers"].size(), 2u);
  EXPECT_EQ(run["pareto"].size(), 2u);
  EXPECT_FALSE(has_note(run, "results.json has no closed_loop_verdicts"));
  EXPECT_FALSE(has_note(run, "results.json stores no trajectories"));
  EXPECT_TRUE(has_note(run, "Latency:"));  // no per-sample latencies: said, not hidden
}

TEST(ReportPage, ComparesTwoRunsAndListsTheirDifferences) {
  testing::TempDir temp("report-compare");
  fixture::write_run(temp.path() / "a", "a");
  fs::copy(temp.path() / "a", temp.path() / "b", fs::copy_options::recursive);
  Json b = Json::parse(read_file(temp.path() / "b" / "results.json"));
  b["study"] = "b";
  b["config"]["name"] = "b";
  b["closed_loop_verdicts"][2]["vs_baseline"]["verdict"] = "worse";
  write_file_atomic(temp.path() / "b" / "results.json", b.dump(2));

  const fs::path out = pages_dir(temp) / "fixture-compare.html";
  const ReportResult r =
      write_comparison(temp.path() / "a", temp.path() / "b", {.out = out, .videos = 1});
  EXPECT_EQ(r.videos, 2);  // one per run
  const Json data = page_data(out);
  EXPECT_EQ(data["kind"], "compare");
  ASSERT_EQ(data["runs"].size(), 2u);
  EXPECT_EQ(data["runs"][1]["name"], "b");
  bool verdict = false, name = false;
  for (const auto& d : data["differences"]) {
    verdict |= d["section"] == "closed_loop" && d["key"] == "int8" && d["field"] == "verdict" &&
               d["b"] == "worse";
    name |= d["section"] == "config" && d["key"] == "name";
  }
  EXPECT_TRUE(verdict);
  EXPECT_TRUE(name);
}

TEST(ReportPage, OldResultsSayWhatTheyLack) {
  testing::TempDir temp("report-old");
  Json r = fixture::write_run(temp.path() / "run", "old");
  r.erase("closed_loop_verdicts");
  r.erase("metric_version");
  for (auto& run : r["closed_loop"]) run.erase("trajectory");
  write_file_atomic(temp.path() / "run" / "results.json", r.dump(2));
  const fs::path out = temp.path() / "old.html";
  const ReportResult result = write_report(temp.path() / "run", {.out = out, .videos = 1});
  const Json run = page_data(out)["runs"][0];
  EXPECT_EQ(run["closed_loop"]["source"], "closed_loop");
  EXPECT_TRUE(has_note(run, "results.json has no closed_loop_verdicts"));
  EXPECT_TRUE(has_note(run, "results.json stores no trajectories"));
  EXPECT_TRUE(has_note(run, "Videos: 1 per report"));  // int8 was left out, and the page says so
  // The re-driven baseline is drawn in place of the stored trajectories.
  ASSERT_EQ(run["circuits"][0]["runs"].size(), 1u);
  EXPECT_EQ(run["circuits"][0]["runs"][0]["source"], "re-drive");
  EXPECT_EQ(result.replays, 1);
  EXPECT_EQ(run["metric_version"], "pitlane-ds/1");  // from the runs' metrics
}

TEST(ReportPage, RefusesWhatIsNotAStudyRunOrCannotBeWritten) {
  testing::TempDir temp("report-refuse");
  EXPECT_THROW((void)write_report(temp.path(), {}), InputError);
  fixture::write_run(temp.path() / "run", "x");
  EXPECT_THROW((void)write_report(temp.path() / "run", {.out = "/proc/report.html"}), InputError);
  EXPECT_FALSE(fs::exists(temp.path() / "run" / "report.html"));
}

}  // namespace
}  // namespace pitlane::report
