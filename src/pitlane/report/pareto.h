// The Pareto front of the study's variants: lower latency, higher driving score, smaller model.
//
//   std::vector<bool> front = pareto_front({{5, 90, 6e6}, {10, 95, 1.6e6}, {10, 80, 6e6}});
//   // {true, true, false}: the third is beaten by the first on every count
#pragma once

#include <span>
#include <vector>

namespace pitlane::report {

struct ParetoPoint {
  double latency_ms = 0.0;     // lower is better
  double driving_score = 0.0;  // higher is better
  double bytes = 0.0;          // lower is better
};

// a dominates b: at least as good on all three counts and better on one.
bool dominates(const ParetoPoint& a, const ParetoPoint& b);
// For each point, whether no other point dominates it. Equal points are all on the front.
std::vector<bool> pareto_front(std::span<const ParetoPoint> points);

}  // namespace pitlane::report
