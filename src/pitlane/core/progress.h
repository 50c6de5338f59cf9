// A terminal progress bar for long work, on stderr.
//
// Redraws in place on a terminal; elsewhere (CI logs, pipes) it stays quiet apart from the final
// line, so logs do not fill with carriage returns. Not thread-safe: one owner updates it.
//
//   ProgressBar bar("record simple_circuit", 2000, "frames");
//   for (...) bar.update(i + 1);
//   bar.finish();
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace pitlane {

class ProgressBar {
 public:
  ProgressBar(std::string label, int64_t total, std::string unit, bool enabled = true);
  // Draws the final line if finish() was not called, unless an exception is unwinding the work
  // (then the error is the last word; an interactive bar only ends its line).
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  // Sets the count of finished items; `note` is shown after the rate (e.g. "loss 0.031").
  void update(int64_t done, const std::string& note = "");
  void finish(const std::string& note = "");

 private:
  void draw(bool final_line);

  std::string label_, unit_, note_;
  int64_t total_ = 0, done_ = 0;
  bool enabled_ = true, interactive_ = false, finished_ = false;
  int exceptions_at_start_ = 0;  // std::uncaught_exceptions() when constructed
  std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace pitlane
