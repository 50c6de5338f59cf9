#include "pitlane/core/stats.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "pitlane/core/error.h"

namespace pitlane {
namespace {

// Continued fraction of the regularized incomplete beta function (modified Lentz).
double beta_continued_fraction(double a, double b, double x) {
  constexpr int kMaxIterations = 300;
  constexpr double kEpsilon = 1e-15, kTiny = 1e-300;
  double c = 1.0, d = 1.0 - (a + b) * x / (a + 1.0);
  if (std::abs(d) < kTiny) d = kTiny;
  d = 1.0 / d;
  double h = d;
  for (int m = 1; m <= kMaxIterations; ++m) {
    const double m2 = 2.0 * m;
    double aa = m * (b - m) * x / ((a + m2 - 1.0) * (a + m2));
    d = 1.0 + aa * d;
    if (std::abs(d) < kTiny) d = kTiny;
    c = 1.0 + aa / c;
    if (std::abs(c) < kTiny) c = kTiny;
    d = 1.0 / d;
    h *= d * c;
    aa = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1.0));
    d = 1.0 + aa * d;
    if (std::abs(d) < kTiny) d = kTiny;
    c = 1.0 + aa / c;
    if (std::abs(c) < kTiny) c = kTiny;
    d = 1.0 / d;
    const double step = d * c;
    h *= step;
    if (std::abs(step - 1.0) < kEpsilon) break;
  }
  return h;
}

// I_x(a, b), the regularized incomplete beta function.
double incomplete_beta(double a, double b, double x) {
  if (x <= 0.0) return 0.0;
  if (x >= 1.0) return 1.0;
  const double front = std::exp(std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) +
                                a * std::log(x) + b * std::log1p(-x));
  if (x < (a + 1.0) / (a + b + 2.0)) return front * beta_continued_fraction(a, b, x) / a;
  return 1.0 - front * beta_continued_fraction(b, a, 1.0 - x) / b;
}

// The two-sided normal quantile z(1 - alpha/2) for the Wilson interval, from the t quantile at a
// very large df (the t distribution's limit).
double normal_quantile(double p) {
  return student_t_quantile(p, 1e9);
}

std::vector<double> differences(std::span<const double> a, std::span<const double> b) {
  if (a.size() != b.size())
    throw RunError("paired comparison: " + std::to_string(a.size()) + " and " +
                   std::to_string(b.size()) + " samples; pairs need the same seeds");
  std::vector<double> d(a.size());
  for (size_t i = 0; i < a.size(); ++i) d[i] = a[i] - b[i];
  return d;
}

}  // namespace

double mean(std::span<const double> values) {
  if (values.empty()) return 0.0;
  return std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
}

double percentile(std::span<const double> values, double q) {
  if (values.empty()) return 0.0;
  std::vector<double> sorted(values.begin(), values.end());
  std::sort(sorted.begin(), sorted.end());
  const double rank = std::clamp(q, 0.0, 100.0) / 100.0 * static_cast<double>(sorted.size() - 1);
  const auto lo = static_cast<size_t>(std::floor(rank));
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  const double frac = rank - static_cast<double>(lo);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * frac;
}

double max_value(std::span<const double> values) {
  if (values.empty()) return 0.0;
  return *std::max_element(values.begin(), values.end());
}

double sample_stddev(std::span<const double> values) {
  if (values.size() < 2) return 0.0;
  const double m = mean(values);
  double ss = 0.0;
  for (double v : values) ss += (v - m) * (v - m);
  return std::sqrt(ss / static_cast<double>(values.size() - 1));
}

double student_t_cdf(double t, double df) {
  const double x = df / (df + t * t);
  const double tail = 0.5 * incomplete_beta(df / 2.0, 0.5, x);  // P(T > |t|)
  return t >= 0 ? 1.0 - tail : tail;
}

double student_t_quantile(double p, double df) {
  if (!(p > 0.0 && p < 1.0) || !(df >= 1.0))
    throw RunError("student_t_quantile: p must be in (0, 1) and df >= 1");
  if (p < 0.5) return -student_t_quantile(1.0 - p, df);
  double lo = 0.0, hi = 1.0;
  while (student_t_cdf(hi, df) < p) hi *= 2.0;  // the 0.9999 quantile at df 1 is about 3183
  for (int i = 0; i < 200 && hi - lo > 1e-12 * std::max(1.0, hi); ++i) {
    const double mid = 0.5 * (lo + hi);
    (student_t_cdf(mid, df) < p ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

Interval mean_interval(std::span<const double> values, double confidence) {
  Interval out;
  out.n = static_cast<int>(values.size());
  if (values.empty()) return out;
  out.estimate = out.low = out.high = mean(values);
  if (values.size() < 2) return out;
  const double t = student_t_quantile(0.5 + confidence / 2.0, static_cast<double>(out.n - 1));
  const double half = t * sample_stddev(values) / std::sqrt(static_cast<double>(out.n));
  out.low = out.estimate - half;
  out.high = out.estimate + half;
  return out;
}

Interval wilson_interval(int successes, int trials, double confidence) {
  Interval out;
  out.n = trials;
  if (trials <= 0) return out;
  const double n = trials, p = successes / n;
  const double z = normal_quantile(0.5 + confidence / 2.0);
  const double denom = 1.0 + z * z / n;
  const double centre = (p + z * z / (2.0 * n)) / denom;
  const double half = z * std::sqrt(p * (1.0 - p) / n + z * z / (4.0 * n * n)) / denom;
  out.estimate = p;
  out.low = std::max(0.0, centre - half);
  out.high = std::min(1.0, centre + half);
  return out;
}

const char* verdict_name(Verdict v) {
  switch (v) {
    case Verdict::worse:
      return "worse";
    case Verdict::equal:
      return "equal";
    case Verdict::better:
      return "better";
  }
  return "?";
}

PairedComparison compare_paired(std::span<const double> variant, std::span<const double> baseline,
                                double confidence, bool higher_is_better) {
  const std::vector<double> d = differences(variant, baseline);
  PairedComparison c;
  c.difference = mean_interval(d, confidence);
  if (d.size() < 2) return c;
  const bool above = c.difference.low > 0.0, below = c.difference.high < 0.0;
  if (above || below) c.verdict = above == higher_is_better ? Verdict::better : Verdict::worse;
  return c;
}

bool worse_one_sided(std::span<const double> variant, std::span<const double> baseline,
                     double confidence, double margin) {
  const std::vector<double> d = differences(variant, baseline);
  if (d.size() < 2) return false;
  const double t = student_t_quantile(confidence, static_cast<double>(d.size() - 1));
  const double upper = mean(d) + t * sample_stddev(d) / std::sqrt(static_cast<double>(d.size()));
  return upper < -margin;
}

}  // namespace pitlane
