#include "pitlane/sim/timing.h"

#include <charconv>
#include <cmath>
#include <cstdio>

#include "pitlane/core/error.h"

namespace pitlane::sim {
namespace {

bool parse_positive(std::string_view s, double& out) {
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && ptr == s.data() + s.size() && std::isfinite(out) && out >= 0.0;
}

}  // namespace

TimingModel TimingModel::parse(std::string_view text) {
  const std::string fix = "; use fixed:MS (e.g. fixed:5), measured, measured x30 or realtime";
  TimingModel t;
  if (text.rfind("fixed:", 0) == 0) {
    t.kind = Kind::kFixed;
    if (!parse_positive(text.substr(6), t.fixed_ms) || t.fixed_ms > 60'000) {
      throw InputError("timing '" + std::string(text) + "': latency must be 0..60000 ms" + fix);
    }
    return t;
  }
  if (text == "realtime") {
    t.kind = Kind::kRealtime;
    return t;
  }
  if (text.rfind("measured", 0) == 0) {
    t.kind = Kind::kMeasured;
    std::string_view rest = text.substr(8);
    while (!rest.empty() && (rest.front() == ' ' || rest.front() == ':')) rest.remove_prefix(1);
    if (rest.empty()) return t;
    if (rest.front() == 'x' && parse_positive(rest.substr(1), t.factor) && t.factor > 0 &&
        t.factor <= 10'000) {
      return t;
    }
    throw InputError("timing '" + std::string(text) + "': slowdown must look like x30" + fix);
  }
  throw InputError("timing '" + std::string(text) + "' is not known" + fix);
}

int64_t TimingModel::latency_us(double measured_ms) const {
  const double ms = kind == Kind::kFixed ? fixed_ms : measured_ms * (kind == Kind::kMeasured ? factor : 1.0);
  return static_cast<int64_t>(std::llround(ms * 1000.0));
}

std::string TimingModel::describe() const {
  char buf[64];
  switch (kind) {
    case Kind::kFixed:
      std::snprintf(buf, sizeof buf, "fixed:%g", fixed_ms);
      return buf;
    case Kind::kMeasured:
      if (factor == 1.0) return "measured";
      std::snprintf(buf, sizeof buf, "measured x%g", factor);
      return buf;
    case Kind::kRealtime:
      return "realtime";
  }
  return "";
}

}  // namespace pitlane::sim
