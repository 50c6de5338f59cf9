#include "pitlane/report/pareto.h"

namespace pitlane::report {

bool dominates(const ParetoPoint& a, const ParetoPoint& b) {
  const bool no_worse =
      a.latency_ms <= b.latency_ms && a.driving_score >= b.driving_score && a.bytes <= b.bytes;
  const bool better =
      a.latency_ms < b.latency_ms || a.driving_score > b.driving_score || a.bytes < b.bytes;
  return no_worse && better;
}

std::vector<bool> pareto_front(std::span<const ParetoPoint> points) {
  std::vector<bool> front(points.size(), true);
  for (size_t i = 0; i < points.size(); ++i) {
    for (size_t j = 0; j < points.size() && front[i]; ++j) {
      if (j != i && dominates(points[j], points[i])) front[i] = false;
    }
  }
  return front;
}

}  // namespace pitlane::report
