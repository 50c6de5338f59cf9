#include "pitlane/core/progress.h"

#include <exception>

#include <unistd.h>
#include <algorithm>
#include <cmath>
#include <cstdio>

namespace pitlane {

ProgressBar::ProgressBar(std::string label, int64_t total, std::string unit, bool enabled)
    : label_(std::move(label)),
      unit_(std::move(unit)),
      total_(total),
      enabled_(enabled),
      interactive_(isatty(STDERR_FILENO) != 0),
      exceptions_at_start_(std::uncaught_exceptions()),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

ProgressBar::~ProgressBar() {
  if (finished_) return;
  if (std::uncaught_exceptions() == exceptions_at_start_) {
    finish();
  } else if (enabled_ && interactive_) {
    std::fputc('\n', stderr);
  }
}

void ProgressBar::update(int64_t done, const std::string& note) {
  done_ = done;
  note_ = note;
  const auto now = std::chrono::steady_clock::now();
  if (interactive_ && now - last_draw_ > std::chrono::milliseconds(100)) {
    last_draw_ = now;
    draw(false);
  }
}

void ProgressBar::finish(const std::string& note) {
  if (finished_) return;
  finished_ = true;
  if (!note.empty()) note_ = note;
  draw(true);
}

void ProgressBar::draw(bool final_line) {
  if (!enabled_) return;
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = elapsed > 0 ? static_cast<double>(done_) / elapsed : 0.0;
  const double frac = total_ > 0 ? static_cast<double>(done_) / static_cast<double>(total_) : 0.0;
  constexpr int kWidth = 28;
  const int filled = static_cast<int>(std::lround(frac * kWidth));
  std::string bar(static_cast<size_t>(std::clamp(filled, 0, kWidth)), '#');
  bar.resize(kWidth, '.');
  const double eta = rate > 0 && total_ > done_ ? static_cast<double>(total_ - done_) / rate : 0.0;
  std::fprintf(stderr, "%s%-24s [%s] %3.0f%% %lld/%lld %s, %.1f %s/s, %.0fs, eta %.0fs %s%s",
               interactive_ ? "\r" : "", label_.c_str(), bar.c_str(), 100.0 * frac,
               static_cast<long long>(done_), static_cast<long long>(total_), unit_.c_str(), rate,
               unit_.c_str(), elapsed, eta, note_.c_str(), interactive_ ? "\033[K" : "");
  if (final_line) std::fputc('\n', stderr);
  std::fflush(stderr);
}

}  // namespace pitlane
