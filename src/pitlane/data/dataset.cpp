#include "pitlane/data/dataset.h"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cmath>
#include <fstream>
#include <mutex>
#include <opencv2/imgcodecs.hpp>
#include <set>
#include <thread>

#include "pitlane/core/error.h"
#include "pitlane/core/rng.h"
#include "pitlane/data/image_reader.h"
#include "pitlane/data/preprocess.h"

namespace fs = std::filesystem;

namespace pitlane::data {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> split_fields(std::string_view line) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    const size_t comma = line.find(',', start);
    out.push_back(
        trim(line.substr(start, comma == std::string_view::npos ? line.npos : comma - start)));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

double parse_number(std::string_view text, const std::string& where, const char* column,
                    const char* fix) {
  double value = 0.0;
  const char* end = text.data() + text.size();
  // from_chars does not take a leading '+'.
  const char* begin = text.data();
  if (begin != end && *begin == '+') ++begin;
  const auto [ptr, ec] = std::from_chars(begin, end, value);
  if (text.empty() || ec != std::errc() || ptr != end || !std::isfinite(value)) {
    throw InputError(where + ": '" + std::string(text) + "' is not a number in column " + column +
                     "; " + fix);
  }
  return value;
}

}  // namespace

cv::Mat Recording::image(size_t i) const {
  const size_t bytes = static_cast<size_t>(image_width) * image_height * 3;
  return cv::Mat(image_height, image_width, CV_8UC3,
                 const_cast<uint8_t*>(pixels.data() + i * bytes));
}

Recording load_recording(const fs::path& dir) {
  if (!fs::is_directory(dir)) {
    throw InputError(dir.string() + ": not a folder; give a recording folder (N.png frames and " +
                     "data.csv)");
  }
  const fs::path csv = dir / "data.csv";
  if (!fs::is_regular_file(csv)) {
    throw InputError(csv.string() + ": missing; a recording folder needs data.csv with header " +
                     "'image_name, v, w, timestamp' (record one with 'pitlane record')");
  }
  std::ifstream in(csv, std::ios::binary);
  if (!in) throw InputError(csv.string() + ": cannot read file; check its permissions");

  Recording rec;
  rec.dir = dir;
  rec.name = fs::path(dir).lexically_normal().filename().string();
  if (rec.name.empty())
    rec.name = fs::path(dir).lexically_normal().parent_path().filename().string();

  std::string line;
  int line_no = 0;
  bool header_seen = false;
  bool has_time = false;
  while (std::getline(in, line)) {
    ++line_no;
    const std::string where = csv.string() + ":" + std::to_string(line_no);
    if (trim(line).empty()) continue;
    const auto fields = split_fields(line);
    if (!header_seen) {
      header_seen = true;
      if (fields.size() < 3 || lower(fields[0]) != "image_name" || lower(fields[1]) != "v" ||
          lower(fields[2]) != "w" || (fields.size() >= 4 && lower(fields[3]) != "timestamp")) {
        throw InputError(where + ": header '" + std::string(trim(line)) +
                         "' is not 'image_name, v, w, timestamp'; fix the first line");
      }
      has_time = fields.size() >= 4;
      continue;
    }
    const size_t want = has_time ? 4 : 3;
    if (fields.size() != want) {
      throw InputError(where + ": " + std::to_string(fields.size()) + " columns, expected " +
                       std::to_string(want) + " (image_name, v, w" +
                       (has_time ? ", timestamp" : "") + "); fix or delete the row");
    }
    Frame f;
    f.csv_line = line_no;
    f.image = std::string(fields[0]);
    if (f.image.empty()) throw InputError(where + ": empty image_name; fix or delete the row");
    if (f.image.find('/') != std::string::npos || f.image == "." || f.image == "..") {
      throw InputError(where + ": image_name '" + f.image +
                       "' must be a file name inside the folder (like 17.png); fix the row");
    }
    if (f.image.find('.') == std::string::npos) f.image += ".png";
    f.v = parse_number(fields[1], where, "v", "write v in m/s as a decimal number");
    f.w = parse_number(fields[2], where, "w", "write w in rad/s as a decimal number");
    if (has_time) f.t = parse_number(fields[3], where, "timestamp", "write the time in seconds");
    if (!fs::is_regular_file(dir / f.image)) {
      throw InputError(where + ": image '" + f.image + "' does not exist in " + dir.string() +
                       "; delete the row or restore the image");
    }
    rec.frames.push_back(std::move(f));
  }
  if (!header_seen) {
    throw InputError(csv.string() + ":1: empty file; data.csv needs the header " +
                     "'image_name, v, w, timestamp' and one row per frame");
  }
  if (rec.frames.empty()) {
    throw InputError(csv.string() + ":2: no frames after the header; record frames or leave " +
                     "this folder out");
  }
  return rec;
}

std::vector<fs::path> find_recordings(std::span<const fs::path> dirs) {
  std::vector<fs::path> out;
  for (const auto& d : dirs) {
    if (fs::is_regular_file(d / "data.csv") || !fs::is_directory(d)) {
      out.push_back(d);  // a recording, or something load_recording explains
      continue;
    }
    // A folder of recordings (what `pitlane record --out` writes): its subfolders with data.csv,
    // in name order; staging folders of an unfinished recording (".name.partial-PID") are not.
    std::vector<fs::path> found;
    for (const auto& e : fs::directory_iterator(d)) {
      const std::string name = e.path().filename().string();
      if (e.is_directory() && !name.starts_with(".") && fs::is_regular_file(e.path() / "data.csv"))
        found.push_back(e.path());
    }
    std::sort(found.begin(), found.end());
    if (found.empty()) {
      throw InputError((d / "data.csv").string() +
                       ": missing, and no subfolder holds one; give a recording folder (N.png "
                       "frames and data.csv) or the folder 'pitlane record --out' wrote");
    }
    out.insert(out.end(), found.begin(), found.end());
  }
  return out;
}

std::vector<Recording> load_recordings(std::span<const fs::path> given) {
  const std::vector<fs::path> dirs = find_recordings(given);
  std::vector<Recording> recs;
  std::set<std::string> names;
  for (const auto& d : dirs) {
    recs.push_back(load_recording(d));
    if (!names.insert(recs.back().name).second) {
      throw InputError(d.string() + ": a recording named '" + recs.back().name +
                       "' was given twice; recording folder names must be distinct");
    }
  }
  return recs;
}

void load_images(Recording& rec, const PreprocessSpec& spec, int threads) {
  const size_t n = rec.frames.size();
  const size_t bytes = static_cast<size_t>(spec.width) * spec.height * 3;
  rec.image_width = spec.width;
  rec.image_height = spec.height;
  rec.pixels.assign(n * bytes, 0);
  std::atomic<size_t> next{0};
  std::mutex error_mutex;
  size_t error_frame = n;  // the first failing frame, so the message does not depend on timing
  std::string error;
  auto work = [&] {
    while (true) {
      const size_t i = next.fetch_add(1);
      if (i >= n) return;
      const Frame& f = rec.frames[i];
      const fs::path path = rec.dir / f.image;
      std::string why;
      try {
        const cv::Mat frame = read_image(path);
        if (frame.rows < spec.crop_row_end) {
          why = "image is " + std::to_string(frame.cols) + "x" + std::to_string(frame.rows) +
                ", the model crops rows up to " + std::to_string(spec.crop_row_end) +
                "; use 640x480 frames";
        } else {
          const cv::Mat small = crop_resize(frame, PixelOrder::bgr, spec);
          std::copy(small.data, small.data + bytes, rec.pixels.data() + i * bytes);
        }
      } catch (const std::exception& e) {
        // read_image names the file; the message below names it once, with its data.csv row.
        std::string reason = e.what();
        const std::string prefix = path.string() + ": ";
        if (reason.rfind(prefix, 0) == 0) reason.erase(0, prefix.size());
        why =
            reason + "; re-record it or delete row " + std::to_string(f.csv_line) + " of data.csv";
      }
      if (!why.empty()) {
        std::lock_guard lock(error_mutex);
        if (i < error_frame) {
          error_frame = i;
          error = path.string() + " (data.csv:" + std::to_string(f.csv_line) + "): " + why;
        }
      }
    }
  };
  const int count = std::max(1, std::min<int>(threads, static_cast<int>(n)));
  {
    std::vector<std::jthread> pool;
    for (int t = 1; t < count; ++t) pool.emplace_back(work);
    work();
  }
  if (!error.empty()) throw InputError(error);
}

RecordingSplit split_by_recording(const std::vector<Recording>& recs, double validation_fraction,
                                  double test_fraction, uint64_t seed) {
  if (validation_fraction < 0 || test_fraction < 0 || validation_fraction + test_fraction >= 1) {
    throw InputError("split: validation and test fractions must be >= 0 and sum below 1");
  }
  std::vector<int> order(recs.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int>(i);
  Rng rng(seed);
  for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);
  size_t total = 0;
  for (const auto& r : recs) total += r.frames.size();

  RecordingSplit split;
  size_t pos = 0;
  auto fill = [&](std::vector<int>& part, double fraction) {
    if (fraction <= 0) return;
    size_t frames = 0;
    while (pos < order.size() && (part.empty() || frames < fraction * total)) {
      part.push_back(order[pos]);
      frames += recs[order[pos]].frames.size();
      ++pos;
    }
  };
  fill(split.test, test_fraction);
  fill(split.validation, validation_fraction);
  while (pos < order.size()) split.train.push_back(order[pos++]);
  const size_t needed = 1 + (validation_fraction > 0) + (test_fraction > 0);
  if (split.train.empty() || recs.size() < needed) {
    throw InputError(
        "split: empty split: " + std::to_string(recs.size()) + " recording(s) cannot fill train" +
        (validation_fraction > 0 ? ", validation" : "") + (test_fraction > 0 ? ", test" : "") +
        " (splits are by recording); give more recording folders or pass " +
        "validation data explicitly");
  }
  std::sort(split.train.begin(), split.train.end());
  std::sort(split.validation.begin(), split.validation.end());
  std::sort(split.test.begin(), split.test.end());
  return split;
}

int oversample_copies(double w) {
  const double a = std::abs(w);
  if (a >= 4.0) return 50;
  if (a >= 3.0) return 35;
  if (a >= 2.0) return 25;
  if (a >= 1.0) return 15;
  if (a >= 0.5) return 5;
  if (a >= 0.3) return 2;
  return 0;
}

std::vector<SampleRef> build_index(const std::vector<Recording>& recs,
                                   std::span<const int> recording_ids, bool oversample) {
  std::vector<SampleRef> index;
  for (int r : recording_ids) {
    const auto& frames = recs.at(static_cast<size_t>(r)).frames;
    for (size_t i = 0; i < frames.size(); ++i) {
      const int copies = 1 + (oversample ? oversample_copies(frames[i].w) : 0);
      for (int c = 0; c < copies; ++c) {
        index.push_back({static_cast<uint32_t>(r), static_cast<uint32_t>(i)});
      }
    }
  }
  return index;
}

}  // namespace pitlane::data
