// Numeric options of every command: non-finite, negative or out-of-range values are one-line
// usage errors (exit 2) naming the option, before any work or output.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "../temp_dir.h"
#include "cli_test.h"

namespace fs = std::filesystem;

namespace pitlane {
namespace {

TEST(OptionsCli, BadNumbersAreUsageErrorsNamingTheOption) {
  pitlane::testing::TempDir tmp("cli-options");
  const std::string out = (tmp.path() / "out").string();
  const std::string cases[][2] = {
      {"render --circuit simple_circuit --yaw inf --out " + out + ".png", "--yaw"},
      {"render --circuit simple_circuit --yaw nan --out " + out + ".png", "--yaw"},
      {"render --circuit simple_circuit --lateral 1e400 --out " + out + ".png", "--lateral"},
      {"eval --model m.onnx --data d --batch -1 --out " + out, "--batch"},
      {"eval --model m.onnx --data d --threads 0 --out " + out, "--threads"},
      {"train --data d --out " + out + ".onnx --threads 0", "--threads"},
      {"train --data d --out " + out + ".onnx --lr nan", "--lr"},
      {"train --data d --out " + out + ".onnx --epochs 0", "--epochs"},
      {"train --data d --out " + out + ".onnx --output-weights 1,-inf", "--output-weights"},
      {"record --circuits simple_circuit --out " + out + " --frames 0", "--frames"},
      {"record --circuits simple_circuit --out " + out + " --expert-share 2", "--expert-share"},
      {"infer --model m.onnx --input x.npy --output " + out + ".npy --threads -3", "--threads"},
      {"optimize --model m.onnx --recipe prune --out " + out + ".onnx --sparsity 1.5",
       "--sparsity"},
      {"optimize --model m.onnx --recipe int8 --out " + out + ".onnx --calib-images 0",
       "--calib-images"},
      {"study configs/quick.yaml --jobs 0 --runs-dir " + out, "--jobs"},
  };
  for (const auto& [args, option] : cases) {
    const auto r = testing::run_pitlane(args, (tmp.path() / "err.txt").string());
    EXPECT_EQ(r.exit_code, 2) << args << "\n" << r.err;
    EXPECT_NE(r.err.find(option), std::string::npos) << args << "\n" << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << args << "\n" << r.err;
  }
  for (const auto& e : fs::directory_iterator(tmp.path()))
    EXPECT_EQ(e.path().filename(), "err.txt") << "written: " << e.path();
}

// An output that names one of the command's inputs is refused before anything is read or written.
TEST(OptionsCli, NoCommandOverwritesItsInput) {
  pitlane::testing::TempDir tmp("cli-same");
  const fs::path dir = tmp.path();
  for (const char* name : {"m.onnx", "c.csv", "x.npy"}) {
    std::ofstream(dir / name) << "precious " << name;
  }
  fs::create_directories(dir / "rec");
  std::ofstream(dir / "rec" / "data.csv") << "image_name, v, w, timestamp\n";
  const std::string m = (dir / "m.onnx").string(), c = (dir / "c.csv").string();
  const std::string cases[] = {
      "eval --model " + m + " --data " + (dir / "rec").string() + " --out " + m,
      "render --circuit " + c + " --out " + c,
      "optimize --model " + m + " --recipe int8 --out " + (dir / "." / "m.onnx").string(),
      "optimize --model " + m + " --recipe int8 --out " + (dir / "o.onnx").string() + " --report " +
          m,
      "train --data " + (dir / "rec").string() + " --init " + m + " --out " + m,
      "train --data " + (dir / "rec").string() + " --init " + m + " --out " +
          (dir / "t.onnx").string() + " --summary " + m,
      "infer --model " + m + " --input " + (dir / "x.npy").string() + " --output " +
          (dir / "x.npy").string(),
      "drive --circuit " + c + " --out " + c,
      "drive --brain " + m + " --video " + m,
      "bench --model " + m + " --json " + m,
  };
  for (const auto& args : cases) {
    const auto r = testing::run_pitlane(args, (dir / "err.txt").string());
    EXPECT_EQ(r.exit_code, 2) << args << "\n" << r.err;
    EXPECT_NE(r.err.find("is the same file as the input"), std::string::npos) << args << r.err;
  }
  for (const char* name : {"m.onnx", "c.csv", "x.npy"}) {
    std::ifstream in(dir / name);
    std::string text((std::istreambuf_iterator<char>(in)), {});
    EXPECT_EQ(text, std::string("precious ") + name);
  }
}

// A read-only place (as root too: /proc takes no new files) is a one-line input error, exit 2.
TEST(OptionsCli, UnwritableOutputsAreInputErrors) {
  pitlane::testing::TempDir tmp("cli-unwritable");
  fs::create_directories(tmp.path() / "rec");
  std::ofstream(tmp.path() / "rec" / "data.csv") << "image_name, v, w, timestamp\n";
  const std::string cases[] = {
      "train --data " + (tmp.path() / "rec").string() + " --out /proc/pitlane-model.onnx",
      "render --circuit simple_circuit --out /proc/frame.png",
  };
  for (const auto& args : cases) {
    const auto r = testing::run_pitlane(args, (tmp.path() / "err.txt").string());
    EXPECT_EQ(r.exit_code, 2) << args << "\n" << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << args << "\n" << r.err;
    EXPECT_NE(r.err.find("/proc/"), std::string::npos) << args << "\n" << r.err;
  }
}

TEST(OptionsCli, VersionNamesTheBuildAndTheCpu) {
  pitlane::testing::TempDir tmp("cli-version");
  const auto r = testing::run_pitlane("--version", (tmp.path() / "err.txt").string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream lines(r.out);
  std::string line;
  std::vector<std::string> got;
  while (std::getline(lines, line)) got.push_back(line);
  ASSERT_EQ(got.size(), 4u) << r.out;
  EXPECT_EQ(got[0].rfind("pitlane 0.", 0), 0u) << r.out;
  EXPECT_EQ(got[1].rfind("commit ", 0), 0u) << r.out;
  EXPECT_NE(got[1].substr(7, 12).find_first_not_of("0123456789abcdef"), 0u) << r.out;
  EXPECT_EQ(got[2].rfind("build Release", 0), 0u) << r.out;
  EXPECT_NE(got[3].find("oneDNN "), std::string::npos) << r.out;
  // Without a subcommand or --version: a usage error.
  EXPECT_EQ(testing::run_pitlane("", (tmp.path() / "err.txt").string()).exit_code, 2);
}

}  // namespace
}  // namespace pitlane
