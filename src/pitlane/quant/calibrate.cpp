#include "pitlane/quant/calibrate.h"

#include <algorithm>
#include <random>

#include "pitlane/core/error.h"
#include "pitlane/data/dataset.h"
#include "pitlane/data/loader.h"
#include "pitlane/onnx/edit.h"
#include "pitlane/onnx/model_file.h"
#include "pitlane/onnx/tensor.h"
#include "pitlane/runtime/model.h"

namespace pitlane::quant {

std::vector<std::vector<float>> calibration_images(std::span<const std::filesystem::path> dirs,
                                                   const data::PreprocessSpec& spec, int count,
                                                   uint64_t seed) {
  std::vector<data::Recording> recs = data::load_recordings(dirs);
  for (auto& r : recs) data::load_images(r, spec, 2);
  std::vector<int> ids(recs.size());
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<int>(i);
  std::vector<data::SampleRef> index = data::build_index(recs, ids, false);
  if (index.empty()) throw InputError("the calibration recordings hold no frames");
  std::mt19937_64 rng(seed);
  std::shuffle(index.begin(), index.end(), rng);
  index.resize(std::min<size_t>(index.size(), static_cast<size_t>(std::max(count, 1))));
  std::vector<std::vector<float>> images;
  data::Batch batch;
  for (size_t i = 0; i < index.size(); ++i) {
    data::make_batch(recs, index, i, 1, spec, data::OutputSpec{}, {}, 0, batch);
    images.push_back(batch.images);
  }
  return images;
}

std::vector<std::vector<int64_t>> probe(const ::onnx::ModelProto& model,
                                        const std::vector<std::string>& tensors,
                                        const std::vector<std::vector<float>>& images,
                                        const ProbeVisitor& visit) {
  ::onnx::ModelProto copy = model;
  ::onnx::GraphProto& g = *copy.mutable_graph();
  for (const auto& t : tensors)
    if (!onnx::is_graph_output(g, t)) g.add_output()->set_name(t);
  const runtime::Model m = runtime::Model::from_bytes(copy.SerializeAsString(), "probe");
  runtime::Session s(m, {.backend = runtime::Backend::onednn, .threads = 1, .batch = 1});
  std::vector<std::vector<float>> outs;
  for (const auto& o : s.outputs()) outs.emplace_back(o.element_count());
  std::vector<std::span<float>> spans(outs.begin(), outs.end());
  std::vector<size_t> slot(tensors.size());
  std::vector<std::vector<int64_t>> shapes(tensors.size());
  for (size_t t = 0; t < tensors.size(); ++t)
    for (size_t o = 0; o < s.outputs().size(); ++o)
      if (s.outputs()[o].name == tensors[t]) {
        slot[t] = o;
        shapes[t] = s.outputs()[o].shape;
      }
  for (size_t i = 0; i < images.size(); ++i) {
    const std::span<const float> in[1] = {images[i]};
    s.run(in, spans);
    for (size_t t = 0; t < tensors.size(); ++t) visit(i, t, outs[slot[t]]);
  }
  return shapes;
}

std::map<std::string, Range> calibrate(const ::onnx::ModelProto& model,
                                       const std::vector<std::string>& tensors,
                                       const std::vector<std::vector<float>>& images,
                                       CalibrationMethod method) {
  std::vector<RangeObserver> obs(tensors.size());
  probe(model, tensors, images,
        [&](size_t, size_t t, std::span<const float> v) { obs[t].observe_min_max(v); });
  if (method != CalibrationMethod::minmax) {
    for (auto& o : obs) o.start_histogram();
    probe(model, tensors, images,
          [&](size_t, size_t t, std::span<const float> v) { obs[t].observe_histogram(v); });
  }
  std::map<std::string, Range> out;
  for (size_t t = 0; t < tensors.size(); ++t) out[tensors[t]] = obs[t].range(method);
  return out;
}

}  // namespace pitlane::quant
