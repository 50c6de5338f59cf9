#include "pitlane/data/dataset.h"

#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include "pitlane/core/error.h"
#include "pitlane/data/loader.h"
#include "synthetic.h"

namespace fs = std::filesystem;

namespace pitlane::data {
namespace {

using test::RecordingBuilder;
using test::TempDir;

// The message of the InputError `f` throws ("" if none).
template <typename F>
std::string input_error(F&& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

void write_text(const fs::path& p, const std::string& text) {
  std::ofstream(p) << text;
}

TEST(Dataset, ParsesHeaderWithAndWithoutSpacesAndBareImageNames) {
  TempDir tmp("ds-parse");
  RecordingBuilder().frames(3).write(tmp.path() / "spaced");
  RecordingBuilder()
      .frames(3)
      .header("image_name,v,w,timestamp")
      .bare_names(true)
      .write(tmp.path() / "bare");
  const Recording a = load_recording(tmp.path() / "spaced");
  const Recording b = load_recording(tmp.path() / "bare");
  ASSERT_EQ(a.frames.size(), 3u);
  ASSERT_EQ(b.frames.size(), 3u);
  EXPECT_EQ(a.name, "spaced");
  EXPECT_EQ(b.frames[2].image, "2.png");
  EXPECT_EQ(a.frames[1].csv_line, 3);
  EXPECT_DOUBLE_EQ(a.frames[1].w, b.frames[1].w);
  EXPECT_NEAR(a.frames[2].t, 0.1, 1e-12);
}

// `--data DIR` where DIR is what `pitlane record --out DIR` wrote: its recordings, in name order,
// without an unfinished recording's staging folder; a folder of neither is named in the error.
TEST(Dataset, AFolderOfRecordingsExpandsToItsRecordings) {
  TempDir tmp("ds-parent");
  const fs::path out = tmp.path() / "data";
  RecordingBuilder().frames(2).write(out / "simple_circuit_cw");
  RecordingBuilder().frames(3).write(out / "montreal_ccw");
  RecordingBuilder().frames(1).write(out / ".montmelo_cw.partial-123");
  fs::create_directories(out / "notes");
  const std::vector<fs::path> given = {out, out / "simple_circuit_cw"};
  const std::vector<fs::path> found = find_recordings(given);
  EXPECT_EQ(found, (std::vector<fs::path>{out / "montreal_ccw", out / "simple_circuit_cw",
                                          out / "simple_circuit_cw"}));
  const std::vector<fs::path> parent = {out};
  const std::vector<Recording> recs = load_recordings(parent);
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].name, "montreal_ccw");
  EXPECT_EQ(recs[1].frames.size(), 2u);
  const std::vector<fs::path> nothing = {out / "notes"};
  EXPECT_NE(input_error([&] {
              load_recordings(nothing);
            }).find("notes/data.csv: missing, and no subfolder holds one"),
            std::string::npos);
}

TEST(Dataset, BadInputGivesOneLineErrorsNamingFileAndRow) {
  TempDir tmp("ds-bad");
  const fs::path rec = RecordingBuilder().frames(4).write(tmp.path() / "rec");

  const fs::path empty = tmp.path() / "empty";
  fs::create_directories(empty);
  std::string msg = input_error([&] { load_recording(empty); });
  EXPECT_NE(msg.find("empty/data.csv: missing"), std::string::npos) << msg;

  write_text(rec / "data.csv",
             "image_name, v, w, timestamp\n0.png, 7.0, 0.5, 0.0\n"
             "17.png, 7.0, 0.5, 0.05\n");
  msg = input_error([&] { load_recording(rec); });
  EXPECT_NE(msg.find("rec/data.csv:3: image '17.png' does not exist"), std::string::npos) << msg;

  write_text(rec / "data.csv", "image_name, v, w, timestamp\n0.png, 7.0, abc, 0.0\n");
  msg = input_error([&] { load_recording(rec); });
  EXPECT_NE(msg.find("rec/data.csv:2: 'abc' is not a number in column w"), std::string::npos)
      << msg;

  write_text(rec / "data.csv", "frame, v, w\n0.png, 7.0, 1.0\n");
  msg = input_error([&] { load_recording(rec); });
  EXPECT_NE(msg.find("data.csv:1: header"), std::string::npos) << msg;

  write_text(rec / "data.csv", "image_name, v, w, timestamp\n");
  msg = input_error([&] { load_recording(rec); });
  EXPECT_NE(msg.find("no frames"), std::string::npos) << msg;

  // A corrupt PNG is found when images are decoded, named with its data.csv row.
  write_text(rec / "data.csv",
             "image_name, v, w, timestamp\n0.png, 7, 0, 0\n1.png, 7, 0, 0\n"
             "2.png, 7, 0, 0\n");
  write_text(rec / "1.png", "this is not a png");
  Recording r = load_recording(rec);
  msg = input_error([&] { load_images(r, PreprocessSpec{}, 2); });
  EXPECT_NE(msg.find("rec/1.png (data.csv:3): cannot decode"), std::string::npos) << msg;

  for (const std::string& m : {msg}) EXPECT_EQ(m.find('\n'), std::string::npos);
}

TEST(Dataset, SplitsByRecordingNeverShareARecording) {
  std::vector<Recording> recs(7);
  for (size_t i = 0; i < recs.size(); ++i) {
    recs[i].name = "rec" + std::to_string(i);
    recs[i].frames.resize(10 + 7 * i);
  }
  for (uint64_t seed = 0; seed < 20; ++seed) {
    const RecordingSplit s = split_by_recording(recs, 0.2, 0.15, seed);
    EXPECT_FALSE(s.train.empty());
    EXPECT_FALSE(s.validation.empty());
    EXPECT_FALSE(s.test.empty());
    std::set<int> seen;
    for (const auto* part : {&s.train, &s.validation, &s.test}) {
      for (int r : *part) EXPECT_TRUE(seen.insert(r).second) << "recording in two splits";
    }
    EXPECT_EQ(seen.size(), recs.size());
    // Oversampling happens after the split: the training index only holds training recordings.
    for (const SampleRef& ref : build_index(recs, s.train, true)) {
      EXPECT_TRUE(std::count(s.train.begin(), s.train.end(), static_cast<int>(ref.recording)));
    }
    const RecordingSplit again = split_by_recording(recs, 0.2, 0.15, seed);
    EXPECT_EQ(again.train, s.train);
    EXPECT_EQ(again.validation, s.validation);
  }
}

TEST(Dataset, EmptySplitIsAnInputError) {
  std::vector<Recording> recs(1);
  recs[0].frames.resize(5);
  const std::string msg = input_error([&] { split_by_recording(recs, 0.2, 0.0, 1); });
  EXPECT_NE(msg.find("empty split"), std::string::npos) << msg;
}

TEST(Dataset, OversamplingCountsMatchTheTable) {
  EXPECT_EQ(oversample_copies(0.0), 0);
  EXPECT_EQ(oversample_copies(0.29), 0);
  EXPECT_EQ(oversample_copies(0.3), 2);
  EXPECT_EQ(oversample_copies(-0.5), 5);
  EXPECT_EQ(oversample_copies(0.99), 5);
  EXPECT_EQ(oversample_copies(1.0), 15);
  EXPECT_EQ(oversample_copies(-2.0), 25);
  EXPECT_EQ(oversample_copies(3.0), 35);
  EXPECT_EQ(oversample_copies(-4.0), 50);
  EXPECT_EQ(oversample_copies(7.0), 50);

  std::vector<Recording> recs(1);
  for (double w : {0.0, 0.4, -1.5, 4.2}) recs[0].frames.push_back({"x.png", 7.0, w, 0.0, 0});
  const int id = 0;
  const auto index = build_index(recs, {&id, 1}, true);
  std::vector<int> per_frame(4, 0);
  for (const auto& ref : index) ++per_frame[ref.frame];
  EXPECT_EQ(per_frame, (std::vector<int>{1, 3, 16, 51}));
  EXPECT_EQ(build_index(recs, {&id, 1}, false).size(), 4u);
}

TEST(Dataset, LoaderIsDeterministicWhateverTheThreads) {
  TempDir tmp("ds-loader");
  std::vector<fs::path> dirs = {RecordingBuilder().frames(12).seed(4).write(tmp.path() / "a")};
  std::vector<Recording> recs = load_recordings(dirs);
  load_images(recs[0], PreprocessSpec{}, 2);
  const int id = 0;
  const auto order = epoch_order(build_index(recs, {&id, 1}, true), 9, 1, 40);
  ASSERT_EQ(order.size(), 40u);
  auto collect = [&](int threads) {
    LoaderConfig c;
    c.batch_size = 8;
    c.threads = threads;
    c.queue_depth = 2;
    c.augment = true;
    BatchLoader loader(recs, order, PreprocessSpec{}, OutputSpec{}, c, 77);
    std::vector<float> all;
    Batch b;
    while (loader.next(b)) {
      all.insert(all.end(), b.images.begin(), b.images.end());
      all.insert(all.end(), b.labels.begin(), b.labels.end());
    }
    return all;
  };
  const auto one = collect(1);
  EXPECT_EQ(one.size(), 40u * (3 * 66 * 200 + 2));
  EXPECT_EQ(one, collect(2));
  EXPECT_EQ(one, collect(3));
}

}  // namespace
}  // namespace pitlane::data
