#include "pitlane/quant/report.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <optional>

#include "pitlane/core/table.h"
#include "pitlane/onnx/edit.h"
#include "pitlane/quant/calibrate.h"
#include "pitlane/quant/recipes.h"
#include "pitlane/runtime/model.h"

namespace pitlane::quant {
namespace {

using nlohmann::json;

// Sums over every value of every image of one comparison (x: float, y: optimized).
struct Sums {
  double xx = 0, yy = 0, xy = 0, ee = 0, max_err = 0;
  int64_t n = 0;
  void add(double x, double y) {
    xx += x * x;
    yy += y * y;
    xy += x * y;
    ee += (x - y) * (x - y);
    max_err = std::max(max_err, std::abs(x - y));
    ++n;
  }
  double sqnr_db() const { return ee > 0 ? 10.0 * std::log10(xx / ee) : 200.0; }  // 200: equal
  double cosine() const { return xx > 0 && yy > 0 ? xy / std::sqrt(xx * yy) : 1.0; }
  double mse() const { return n > 0 ? ee / static_cast<double>(n) : 0.0; }
};

const ::onnx::NodeProto* node_named(const ::onnx::GraphProto& g, const std::string& layer) {
  for (const auto& n : g.node())
    if (layer_name(n) == layer) return &n;
  return nullptr;
}

// The float twin of `layer`: its node in `twins` (float weights) and the Relu that is its
// output's only reader, as a model with one input of `shape`. nullopt when the node is missing or
// reads anything but initializers besides its first input.
std::optional<runtime::Model> twin_model(const ::onnx::ModelProto& twins, const std::string& layer,
                                         const std::vector<int64_t>& shape) {
  const ::onnx::GraphProto& g = twins.graph();
  const ::onnx::NodeProto* n = node_named(g, layer);
  if (!n || n->input_size() < 1 || shape.empty()) return std::nullopt;
  ::onnx::ModelProto m;
  m.set_ir_version(twins.ir_version());
  *m.mutable_opset_import() = twins.opset_import();
  ::onnx::GraphProto& t = *m.mutable_graph();
  t.set_name("twin");
  auto* in = t.add_input();
  in->set_name("x");
  auto* tt = in->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(::onnx::TensorProto::FLOAT);
  for (int64_t d : shape) tt->mutable_shape()->add_dim()->set_dim_value(d);
  ::onnx::NodeProto node = *n;
  node.set_input(0, "x");
  for (int i = 1; i < node.input_size(); ++i) {
    if (node.input(i).empty()) continue;
    const ::onnx::TensorProto* w = onnx::find_initializer(g, node.input(i));
    if (!w) return std::nullopt;
    if (!onnx::find_initializer(t, w->name())) *t.add_initializer() = *w;
  }
  node.clear_output();
  node.add_output("y0");
  *t.add_node() = node;
  std::string y = "y0";
  const auto readers = onnx::readers_of(g, n->output(0));
  if (readers.size() == 1 && g.node(readers[0]).op_type() == "Relu" &&
      !onnx::is_graph_output(g, n->output(0))) {
    *t.add_node() = onnx::make_node("Relu", {"y0"}, {"y"}, "relu");
    y = "y";
  }
  t.add_output()->set_name(y);
  return runtime::Model::from_bytes(m.SerializeAsString(), "twin of " + layer);
}

}  // namespace

std::string layer_precision(const ::onnx::ModelProto& optimized, const std::string& layer) {
  const ::onnx::GraphProto& g = optimized.graph();
  const ::onnx::NodeProto* n = node_named(g, layer);
  if (!n) {
    for (const auto& k : g.node())
      if (k.name() == layer + "_integer" &&
          (k.op_type() == "ConvInteger" || k.op_type() == "MatMulInteger"))
        return "int8 dynamic";
    return "";
  }
  if (n->input_size() < 2) return "";
  const std::string& w = n->input(1);
  if (const ::onnx::TensorProto* t = onnx::find_initializer(g, w))
    return t->data_type() == ::onnx::TensorProto::FLOAT ? "fp32" : "";
  const int p = onnx::producer_of(g, w);
  if (p < 0) return "";
  const ::onnx::NodeProto& prod = g.node(p);
  const ::onnx::TensorProto* src = onnx::find_initializer(g, prod.input(0));
  if (!src) return "";
  if (prod.op_type() == "DequantizeLinear" && src->data_type() == ::onnx::TensorProto::INT8)
    return "int8";
  if (prod.op_type() == "Cast" && src->data_type() == ::onnx::TensorProto::FLOAT16)
    return "float16";
  if (prod.op_type() == "Cast" && src->data_type() == ::onnx::TensorProto::BFLOAT16) return "bf16";
  return "";
}

nlohmann::json compare_layers(const ComparedModels& models, const std::vector<LayerPair>& pairs,
                              const std::vector<std::vector<float>>& float_images,
                              const std::vector<std::vector<float>>& quant_images) {
  const size_t np = pairs.size();
  std::vector<std::string> ft;
  for (const auto& p : pairs) ft.push_back(p.float_tensor);
  // Float results of every image, then the optimized ones against them.
  std::vector<std::vector<std::vector<float>>> reference(float_images.size(),
                                                         std::vector<std::vector<float>>(np));
  probe(models.reference, ft, float_images, [&](size_t i, size_t t, std::span<const float> v) {
    reference[i][t].assign(v.begin(), v.end());
  });

  // The optimized model's tensors: each own-error pair's input first, then every pair's result,
  // so that within one image the twin has run before its result arrives.
  std::vector<std::string> qt;
  std::vector<int> input_of;  // tensor index -> pair whose input it is, or -1
  for (size_t p = 0; p < np; ++p)
    if (!pairs[p].quant_input.empty()) {
      qt.push_back(pairs[p].quant_input);
      input_of.push_back(static_cast<int>(p));
    }
  const size_t first_result = qt.size();
  for (const auto& p : pairs) {
    qt.push_back(p.quant_tensor);
    input_of.push_back(-1);
  }
  std::vector<std::unique_ptr<runtime::Session>> twins(np);
  std::vector<std::optional<runtime::Model>> twin_models(np);
  if (first_result > 0 && !quant_images.empty()) {
    const auto shapes = probe(models.optimized, qt, {quant_images[0]}, [](size_t, size_t, auto) {});
    for (size_t t = 0; t < first_result; ++t) {
      const size_t p = static_cast<size_t>(input_of[t]);
      twin_models[p] = twin_model(models.twins, pairs[p].layer, shapes[t]);
      if (twin_models[p])
        twins[p] = std::make_unique<runtime::Session>(
            *twin_models[p],
            runtime::SessionOptions{.backend = runtime::Backend::onednn, .threads = 1});
    }
  }
  std::vector<std::vector<float>> twin_out(np);
  std::vector<Sums> sums(np), own(np);
  probe(models.optimized, qt, quant_images, [&](size_t i, size_t t, std::span<const float> v) {
    if (t < first_result) {
      const size_t p = static_cast<size_t>(input_of[t]);
      if (!twins[p]) return;
      twin_out[p].resize(twins[p]->outputs()[0].element_count());
      if (v.size() != static_cast<size_t>(twins[p]->inputs()[0].element_count())) {
        twins[p].reset();  // the layer's input is not what its twin takes: no own error
        return;
      }
      twins[p]->run(v, twin_out[p]);
      return;
    }
    const size_t p = t - first_result;
    const auto& x = reference[i][p];
    for (size_t k = 0; k < std::min(x.size(), v.size()); ++k)
      sums[p].add(x[k], pairs[p].dq.dequantize(v[k]));
    if (twins[p]) {
      const auto& tw = twin_out[p];
      for (size_t k = 0; k < std::min(tw.size(), v.size()); ++k)
        own[p].add(tw[k], pairs[p].dq.dequantize(v[k]));
    }
  });
  json out = json::array();
  for (size_t p = 0; p < np; ++p) {
    const Sums& s = sums[p];
    json row = {{"layer", pairs[p].layer},
                {"tensor", pairs[p].float_tensor},
                {"precision", pairs[p].precision},
                {"sqnr_db", s.sqnr_db()},
                {"cosine", s.cosine()},
                {"max_abs_error", s.max_err},
                {"mse", s.mse()},
                {"own_sqnr_db", nullptr},
                {"own_max_abs_error", nullptr}};
    if (twins[p] && own[p].n > 0) {
      row["own_sqnr_db"] = own[p].sqnr_db();
      row["own_max_abs_error"] = own[p].max_err;
    }
    out.push_back(row);
  }
  return out;
}

std::string report_table(const nlohmann::json& report) {
  std::string text = "recipe " + report.value("recipe", std::string()) + ": " +
                     std::to_string(report.value("size_bytes", 0)) + " bytes (parent " +
                     std::to_string(report.value("parent_size_bytes", 0)) + ")\n";
  if (!report.contains("layers") || report["layers"].empty())
    return text + "no per-layer comparison (pass --calib DIR to compare on recordings)\n";
  if (report.contains("frames"))
    text += "compared on " + std::to_string(report["frames"].value("images", 0)) + " frames of " +
            report["frames"].value("source", std::string("?")) + "\n";
  Table t({"layer", "precision", "SQNR dB", "cosine", "max |err|", "own SQNR dB", "own max |err|"});
  auto fixed_or_dash = [](const json& v, int decimals) {
    return v.is_number() ? format_fixed(v.get<double>(), decimals) : std::string("-");
  };
  for (const auto& l : report["layers"])
    t.add({l["layer"].get<std::string>(), l.value("precision", std::string()),
           format_fixed(l["sqnr_db"].get<double>(), 1), format_fixed(l["cosine"].get<double>(), 5),
           format_fixed(l["max_abs_error"].get<double>(), 4),
           fixed_or_dash(l.value("own_sqnr_db", json()), 1),
           fixed_or_dash(l.value("own_max_abs_error", json()), 4)});
  text += t.render();
  text +=
      "SQNR: float model vs optimized model at the layer (errors of the layers before add up); "
      "own: the layer alone, on the optimized model's own input\n";
  auto list = [&](const char* key, const char* title) {
    if (!report.contains(key)) return;
    text += title;
    for (const auto& w : report[key]) text += " " + w.get<std::string>();
    text += "\n";
  };
  list("worst_layers", "worst layers (lowest SQNR):");
  list("worst_own_layers", "worst layers by their own error (lowest own SQNR):");
  return text;
}

}  // namespace pitlane::quant
