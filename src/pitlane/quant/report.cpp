#include "pitlane/quant/report.h"

#include <cmath>
#include <limits>

#include "pitlane/core/table.h"
#include "pitlane/quant/calibrate.h"

namespace pitlane::quant {
namespace {

struct Sums {
  double xx = 0, yy = 0, xy = 0, ee = 0, max_err = 0;
};

}  // namespace

nlohmann::json compare_layers(const ::onnx::ModelProto& float_model,
                              const ::onnx::ModelProto& quant_model,
                              const std::vector<LayerPair>& pairs,
                              const std::vector<std::vector<float>>& float_images,
                              const std::vector<std::vector<float>>& quant_images) {
  std::vector<std::string> ft, qt;
  for (const auto& p : pairs) {
    ft.push_back(p.float_tensor);
    qt.push_back(p.quant_tensor);
  }
  // Float results of every image, then the quantized ones against them.
  std::vector<std::vector<std::vector<float>>> reference(
      float_images.size(), std::vector<std::vector<float>>(pairs.size()));
  probe(float_model, ft, float_images, [&](size_t i, size_t t, std::span<const float> v) {
    reference[i][t].assign(v.begin(), v.end());
  });
  std::vector<Sums> sums(pairs.size());
  probe(quant_model, qt, quant_images, [&](size_t i, size_t t, std::span<const float> v) {
    const auto& x = reference[i][t];
    Sums& s = sums[t];
    for (size_t k = 0; k < std::min(x.size(), v.size()); ++k) {
      const double y = pairs[t].dq.dequantize(v[k]);
      s.xx += x[k] * static_cast<double>(x[k]);
      s.yy += y * y;
      s.xy += x[k] * y;
      s.ee += (x[k] - y) * (x[k] - y);
      s.max_err = std::max(s.max_err, std::abs(x[k] - y));
    }
  });
  nlohmann::json out = nlohmann::json::array();
  for (size_t t = 0; t < pairs.size(); ++t) {
    const Sums& s = sums[t];
    const double sqnr = s.ee > 0 ? 10.0 * std::log10(s.xx / s.ee) : 200.0;  // 200: identical
    const double cosine = s.xx > 0 && s.yy > 0 ? s.xy / std::sqrt(s.xx * s.yy) : 1.0;
    out.push_back({{"layer", pairs[t].layer},
                   {"tensor", pairs[t].float_tensor},
                   {"sqnr_db", sqnr},
                   {"cosine", cosine},
                   {"max_abs_error", s.max_err}});
  }
  return out;
}

std::string report_table(const nlohmann::json& report) {
  std::string text = "recipe " + report.value("recipe", std::string()) + ": " +
                     std::to_string(report.value("size_bytes", 0)) + " bytes (parent " +
                     std::to_string(report.value("parent_size_bytes", 0)) + ")\n";
  if (!report.contains("layers") || report["layers"].empty())
    return text + "no per-layer comparison (pass --calib DIR to compare on recordings)\n";
  Table t({"layer", "tensor", "SQNR dB", "cosine", "max |err|"});
  for (const auto& l : report["layers"])
    t.add({l["layer"].get<std::string>(), l["tensor"].get<std::string>(),
           format_fixed(l["sqnr_db"].get<double>(), 1), format_fixed(l["cosine"].get<double>(), 5),
           format_fixed(l["max_abs_error"].get<double>(), 4)});
  text += t.render();
  if (report.contains("worst_layers")) {
    text += "worst layers (lowest SQNR):";
    for (const auto& w : report["worst_layers"]) text += " " + w.get<std::string>();
    text += "\n";
  }
  return text;
}

}  // namespace pitlane::quant
