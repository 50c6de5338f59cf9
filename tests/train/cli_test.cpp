// The train and eval subcommands end to end, and their answer to bad input: one line naming the
// file and row, exit code 2.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

#include "pitlane/core/files.h"
#include "synthetic.h"

namespace fs = std::filesystem;

namespace pitlane {
namespace {

struct CliResult {
  int exit_code = -1;
  std::string err;
};

CliResult run_cli(const std::string& args, const fs::path& tmp) {
  const fs::path err = tmp / "stderr.txt";
  const std::string cmd =
      std::string(PITLANE_BINARY) + " " + args + " >/dev/null 2>" + err.string();
  const int status = std::system(cmd.c_str());
  CliResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.err = fs::exists(err) ? read_file(err) : "";
  return r;
}

// Exactly one line of text.
bool one_line(const std::string& s) {
  return !s.empty() && s.find('\n') == s.size() - 1;
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override { tmp_ = std::make_unique<test::TempDir>("cli"); }
  const fs::path& dir() const { return tmp_->path(); }
  std::unique_ptr<test::TempDir> tmp_;
};

TEST_F(CliTest, TrainThenEval) {
  const fs::path a = test::RecordingBuilder().frames(12).seed(1).write(dir() / "a_cw");
  const fs::path b = test::RecordingBuilder().frames(8).seed(2).write(dir() / "b_ccw");
  const fs::path c = test::RecordingBuilder().frames(8).seed(3).write(dir() / "c_cw");
  const fs::path model = dir() / "m.onnx";
  CliResult r = run_cli("train --quiet --data " + a.string() + " " + b.string() +
                            " --arch pilotnet --epochs 1 --batch 8 --samples-per-epoch 16 --out " +
                            model.string(),
                        dir());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_TRUE(fs::exists(model));
  const auto summary = nlohmann::json::parse(read_file(dir() / "m.onnx.train.json"));
  EXPECT_EQ(summary["epochs"].size(), 1u);
  EXPECT_GT(summary["timing"]["loader_alone_images_per_s"].get<double>(), 0.0);

  const fs::path out = dir() / "eval.json";
  r = run_cli("eval --model " + model.string() + " --data " + c.string() + " --out " + out.string(),
              dir());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(read_file(out));
  EXPECT_EQ(j["overall"]["frames"], 8);
  EXPECT_EQ(j["arch"], "pilotnet");
  EXPECT_TRUE(j["overall"]["mse"].is_number());

  // Fine-tuning keeps the parent's architecture: a different explicit --arch is refused.
  r = run_cli("train --quiet --data " + a.string() + " " + b.string() + " --init " +
                  model.string() + " --arch pilotnet-same --epochs 1 --out " +
                  (dir() / "m2.onnx").string(),
              dir());
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("differs from"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir() / "m2.onnx"));
}

TEST_F(CliTest, BadInputIsOneLineAndExitCodeTwo) {
  const fs::path a = test::RecordingBuilder().frames(4).seed(1).write(dir() / "a");
  const fs::path b = test::RecordingBuilder().frames(4).seed(2).write(dir() / "b");
  const std::string out = " --out " + (dir() / "m.onnx").string() + " --quiet";
  auto expect_bad = [&](const std::string& args, const std::string& needle) {
    const CliResult r = run_cli(args, dir());
    EXPECT_EQ(r.exit_code, 2) << args << ": " << r.err;
    EXPECT_TRUE(one_line(r.err)) << r.err;
    EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(dir() / "m.onnx"));
  };
  // Missing data.csv.
  fs::create_directories(dir() / "nocsv");
  expect_bad("train --data " + a.string() + " " + (dir() / "nocsv").string() + out,
             "nocsv/data.csv: missing");
  // Empty split: one recording cannot be split into train and validation.
  expect_bad("train --data " + a.string() + out, "empty split");
  // A row that references a missing image.
  { std::ofstream(b / "data.csv", std::ios::app) << "99.png, 7.0, 0.1, 1.0\n"; }
  expect_bad("train --data " + a.string() + " " + b.string() + out, "b/data.csv:6: image '99.png'");
  // A non-numeric label.
  {
    std::ofstream(b / "data.csv") << "image_name, v, w, timestamp\n0.png, 7.0, 0.1, 0\n"
                                  << "1.png, fast, 0.1, 0.05\n";
  }
  expect_bad("train --data " + a.string() + " " + b.string() + out,
             "b/data.csv:3: 'fast' is not a number in column v");
  // A corrupt PNG.
  {
    std::ofstream(b / "data.csv") << "image_name, v, w, timestamp\n0.png, 7.0, 0.1, 0\n"
                                  << "1.png, 7.0, 0.1, 0.05\n";
    std::ofstream(b / "1.png") << "garbage";
  }
  expect_bad("train --data " + a.string() + " " + b.string() + out,
             "b/1.png (data.csv:3): cannot decode");
  // Unknown architecture, and a file that is not a model.
  expect_bad("train --data " + a.string() + " --arch resnet" + out, "--arch 'resnet'");
  write_file_atomic(dir() / "junk.onnx", "junk");
  expect_bad("eval --model " + (dir() / "junk.onnx").string() + " --data " + a.string(),
             "junk.onnx: not a valid ONNX model");
}

}  // namespace
}  // namespace pitlane
