// Summary statistics over samples: mean, percentiles (linear interpolation, like NumPy's default),
// and the inference the closed-loop verdicts rest on: Student-t confidence intervals of a mean,
// Wilson intervals of a proportion, and paired comparisons of two variants driven on the same
// seeds.
//
//   Interval ds = mean_interval(scores, 0.95);             // mean and 95% CI
//   Interval done = wilson_interval(4, 5, 0.95);           // completion rate 4/5
//   PairedComparison c = compare_paired(variant, baseline, 0.95);   // c.verdict:
//   worse/equal/better
#pragma once

#include <span>
#include <string>
#include <vector>

namespace pitlane {

double mean(std::span<const double> values);
// q in [0, 100]; 0 for an empty span.
double percentile(std::span<const double> values, double q);
double max_value(std::span<const double> values);
// Sample standard deviation (n - 1 in the denominator); 0 for fewer than two values.
double sample_stddev(std::span<const double> values);

// The Student t distribution with `df` degrees of freedom (df >= 1): its CDF, and the quantile
// at probability p in (0, 1) (by bisection on the CDF, to 1e-12).
double student_t_cdf(double t, double df);
double student_t_quantile(double p, double df);

struct Interval {
  double estimate = 0.0;  // the mean (or proportion)
  double low = 0.0;       // the interval's bounds at the requested confidence
  double high = 0.0;
  int n = 0;  // samples
};

// Mean +- t(1 - alpha/2, n - 1) * s / sqrt(n). With one sample the interval is the point; with
// none, all zeros.
Interval mean_interval(std::span<const double> values, double confidence);
// Wilson score interval of k successes in n trials (well-behaved at 0/n and n/n).
Interval wilson_interval(int successes, int trials, double confidence);

enum class Verdict { worse, equal, better };
const char* verdict_name(Verdict v);  // "worse" | "equal" | "better"

// A variant against a baseline on paired samples (same seeds): the mean difference
// variant - baseline with its t interval. `higher_is_better` orients the verdict: worse or better
// when the interval excludes zero, equal otherwise (no difference detectable at this confidence,
// which includes fewer than two pairs). Pairs that all differ by the same amount have a point
// interval: a nonzero constant difference is a difference.
struct PairedComparison {
  Interval difference;
  Verdict verdict = Verdict::equal;
};
PairedComparison compare_paired(std::span<const double> variant, std::span<const double> baseline,
                                double confidence, bool higher_is_better = true);

// One-sided paired t test (higher is better): true when the variant is worse than the baseline at
// this confidence, i.e. the upper bound of the one-sided interval of mean(variant - baseline)
// lies below -margin. With fewer than two pairs it cannot be shown: false.
bool worse_one_sided(std::span<const double> variant, std::span<const double> baseline,
                     double confidence, double margin = 0.0);

}  // namespace pitlane
