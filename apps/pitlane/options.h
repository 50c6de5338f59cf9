// Validators for numeric options, so that a bad number is a one-line usage error (exit 2) before
// any work starts. CLI11's own Range lets NaN through (every comparison with NaN is false);
// these check finiteness first.
//
//   cmd->add_option("--yaw", yaw, "...")->check(finite_in(-kPi, kPi));
//   cmd->add_option("--threads", threads, "...")->check(whole_in(1, kMaxThreads));
#pragma once

#include <CLI/CLI.hpp>

#include <cmath>
#include <cstdint>
#include <string>

namespace pitlane::cli {

inline constexpr int kMaxThreads = 256;

// A finite number in [lo, hi].
inline CLI::Validator finite_in(double lo, double hi) {
  const std::string range =
      "[" + CLI::detail::to_string(lo) + ", " + CLI::detail::to_string(hi) + "]";
  return CLI::Validator(
      [lo, hi, range](std::string& text) -> std::string {
        double v = 0.0;
        try {
          size_t used = 0;
          v = std::stod(text, &used);
          if (used != text.size()) return "'" + text + "' is not a number";
        } catch (const std::exception&) {
          return "'" + text + "' is not a number";
        }
        if (!std::isfinite(v)) return "'" + text + "' is not finite; give a number in " + range;
        if (v < lo || v > hi) return text + " is outside " + range;
        return {};
      },
      "FINITE in " + range);
}

// A whole number in [lo, hi].
inline CLI::Validator whole_in(int64_t lo, int64_t hi) {
  const std::string range = "[" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
  return CLI::Validator(
      [lo, hi, range](std::string& text) -> std::string {
        int64_t v = 0;
        try {
          size_t used = 0;
          v = std::stoll(text, &used);
          if (used != text.size()) return "'" + text + "' is not a whole number";
        } catch (const std::exception&) {
          return "'" + text + "' is not a whole number in " + range;
        }
        if (v < lo || v > hi) return text + " is outside " + range;
        return {};
      },
      "INT in " + range);
}

}  // namespace pitlane::cli
