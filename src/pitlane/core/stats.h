// Summary statistics over samples: mean, percentiles (linear interpolation, like NumPy's default).
#pragma once

#include <span>
#include <vector>

namespace pitlane {

double mean(std::span<const double> values);
// q in [0, 100]; 0 for an empty span.
double percentile(std::span<const double> values, double q);
double max_value(std::span<const double> values);

}  // namespace pitlane
