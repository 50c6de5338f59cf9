// The CLI as a user meets it: deterministic results files, one-line errors with exit code 2.
#include <gtest/gtest.h>

#include "../temp_dir.h"

#include <algorithm>
#include <cmath>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli_test.h"

namespace fs = std::filesystem;

namespace pitlane {
namespace {

class DriveCli : public ::testing::Test {
 protected:
  pitlane::testing::TempDir tmp_{"cli"};
  const fs::path dir_ = tmp_.path();
  testing::CommandResult run(const std::string& args) {
    return testing::run_pitlane(args, (dir_ / "stderr.txt").string());
  }
  std::string slurp(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  void write(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }
  // Bad input: exit code 2, one line on stderr that contains `fragment`, no results file.
  void expect_bad_input(const std::string& args, const std::string& fragment) {
    const auto r = run(args + " --out " + (dir_ / "never.json").string());
    EXPECT_EQ(r.exit_code, 2) << args << "\n" << r.err;
    EXPECT_NE(r.err.find(fragment), std::string::npos) << args << "\n" << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one line: " << r.err;
    EXPECT_FALSE(fs::exists(dir_ / "never.json"));
  }
};

TEST_F(DriveCli, SameCommandTwiceGivesTheSameBytes) {
  const std::string base =
      "drive --circuit nurburgring --brain explicit --timing fixed:5 --seed 3 "
      "--random-start --randomize-style --timeout 25 --quiet --out ";
  const auto a = run(base + (dir_ / "a.json").string());
  const auto b = run(base + (dir_ / "b.json").string());
  ASSERT_EQ(a.exit_code, 0) << a.err;
  ASSERT_EQ(b.exit_code, 0) << b.err;
  const std::string ja = slurp(dir_ / "a.json");
  EXPECT_FALSE(ja.empty());
  EXPECT_EQ(ja, slurp(dir_ / "b.json"));
  EXPECT_NE(ja.find("\"circuit\": \"nurburgring\""), std::string::npos);
  // Wall-clock figures live beside it, not in it.
  EXPECT_TRUE(fs::exists(dir_ / "a.timing.json"));
  EXPECT_EQ(ja.find("wall_time"), std::string::npos);
}

TEST_F(DriveCli, PrintsTheMetricsTable) {
  const auto r = run("drive --circuit simple_circuit --timeout 5");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("average speed m/s"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("timeout"), std::string::npos) << r.out;
}

TEST_F(DriveCli, BadInputIsOneLineAndExitCodeTwo) {
  expect_bad_input("drive --circuit monaco", "simple_circuit");
  expect_bad_input("drive --circuit simple_circuit --timing fast", "timing");
  expect_bad_input("drive --circuit simple_circuit --direction up", "cw or ccw");
  expect_bad_input("drive --circuit simple_circuit --laps 0", "laps");
  expect_bad_input("drive --circuit simple_circuit --timeout inf", "--timeout");
  expect_bad_input("drive --circuit simple_circuit --timeout nan", "--timeout");
  expect_bad_input("drive --circuit simple_circuit --brain nope", "brain");
  write(dir_ / "few.csv", "x_m,y_m\n0,0\n1,0\n1,1\n");
  expect_bad_input("drive --circuit " + (dir_ / "few.csv").string(), "at least 10");
  std::string nan_csv = "x_m,y_m\n";
  for (int i = 0; i < 50; ++i)
    nan_csv += std::to_string(30 * std::cos(i * 0.1257)) + "," +
               (i == 7 ? "nan" : std::to_string(20 * std::sin(i * 0.1257))) + "\n";
  write(dir_ / "nan.csv", nan_csv);
  expect_bad_input("drive --circuit " + (dir_ / "nan.csv").string(), "nan.csv:9");
  std::string open_csv = "x_m,y_m\n";
  for (int i = 0; i < 30; ++i)
    open_csv += std::to_string(30 * std::cos(i * 0.1)) + "," +
                std::to_string(20 * std::sin(i * 0.1)) + "\n";
  write(dir_ / "open.csv", open_csv);
  expect_bad_input("drive --circuit " + (dir_ / "open.csv").string(), "open");
  std::string eight = "x_m,y_m\n";
  for (int i = 0; i < 100; ++i)
    eight += std::to_string(40 * std::sin(i * 0.06283)) + "," +
             std::to_string(20 * std::sin(i * 0.06283) * std::cos(i * 0.06283)) + "\n";
  write(dir_ / "eight.csv", eight);
  expect_bad_input("drive --circuit " + (dir_ / "eight.csv").string(), "crosses itself");
  write(dir_ / "text.csv", "x_m,y_m\n1,2\nhello\n");
  expect_bad_input("drive --circuit " + (dir_ / "text.csv").string(), "text.csv:3");
  expect_bad_input("drive --circuit " + (dir_ / "missing.csv").string(), "no such file");
}

// --require-completed: a run that times out still writes its results, prints its table and then
// exits 1 naming how it ended; the trajectory is gzip CSV beside it.
TEST_F(DriveCli, RequireCompletedFailsAnUnfinishedLapAfterWritingItsResults) {
  const std::string out = (dir_ / "r.json").string(), tr = (dir_ / "r.csv.gz").string();
  const auto r = run("drive --circuit montreal --timeout 4 --require-completed --out " + out +
                     " --trajectory " + tr);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("did not complete 1 lap: timeout at "), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("driving score (pitlane-ds/1)"), std::string::npos) << r.out;
  EXPECT_NE(slurp(out).find("\"termination\": \"timeout\""), std::string::npos);
  const std::string gz = slurp(tr);
  ASSERT_GE(gz.size(), 2u);
  EXPECT_EQ(static_cast<unsigned char>(gz[0]), 0x1f);  // gzip magic
  EXPECT_EQ(static_cast<unsigned char>(gz[1]), 0x8b);
  // The same drive without the flag exits 0.
  EXPECT_EQ(run("drive --circuit montreal --timeout 4 --quiet").exit_code, 0);
}

TEST_F(DriveCli, UnwritableOutputFailsBeforeDriving) {
  write(dir_ / "file", "x");
  const auto r = run("drive --circuit simple_circuit --out " + (dir_ / "file" / "r.json").string());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("r.json"), std::string::npos) << r.err;
  const auto v = run("drive --circuit simple_circuit --video " + (dir_ / "lap.gif").string());
  EXPECT_EQ(v.exit_code, 2);
  EXPECT_NE(v.err.find(".webm"), std::string::npos) << v.err;
}

TEST_F(DriveCli, VideoIsWritten) {
  const auto r = run("drive --circuit simple_circuit --timeout 2 --quiet --video " +
                     (dir_ / "lap.avi").string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_GT(fs::file_size(dir_ / "lap.avi"), 10'000u);
}

TEST_F(DriveCli, HelpHasExamples) {
  const auto r = run("drive --help");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("Examples"), std::string::npos);
}

TEST_F(DriveCli, RecordWritesFramesAndCsv) {
  const auto r =
      run("record --circuits simple_circuit --frames 5 --out " + (dir_ / "rec").string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::exists(dir_ / "rec" / "simple_circuit_cw" / "4.png"));
  EXPECT_TRUE(fs::exists(dir_ / "rec" / "simple_circuit_cw" / "data.csv"));
  const auto bad = run("record --circuits nowhere --out " + (dir_ / "rec2").string());
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_FALSE(fs::exists(dir_ / "rec2" / "nowhere_cw"));
}

}  // namespace
}  // namespace pitlane
