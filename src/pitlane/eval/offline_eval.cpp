#include "pitlane/eval/offline_eval.h"

#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>

#include "pitlane/core/error.h"
#include "pitlane/core/files.h"
#include "pitlane/core/gzip.h"
#include "pitlane/core/table.h"
#include "pitlane/data/loader.h"
#include "pitlane/data/preprocess.h"

namespace fs = std::filesystem;

namespace pitlane::eval {
namespace {

struct Accumulator {
  double se = 0, ae = 0, se_v = 0, se_w = 0, ae_v = 0, ae_w = 0;
  int64_t n = 0;

  void add(double pv, double pw, double lv, double lw, double v_phys, double w_phys, double pv_phys,
           double pw_phys) {
    const double dv = pv - lv, dw = pw - lw;
    se_v += dv * dv;
    se_w += dw * dw;
    se += dv * dv + dw * dw;
    ae += std::abs(dv) + std::abs(dw);
    ae_v += std::abs(pv_phys - v_phys);
    ae_w += std::abs(pw_phys - w_phys);
    ++n;
  }
  void merge(const Accumulator& o) {
    se += o.se, ae += o.ae, se_v += o.se_v, se_w += o.se_w, ae_v += o.ae_v, ae_w += o.ae_w;
    n += o.n;
  }
  EvalMetrics metrics(const std::string& name) const {
    EvalMetrics m;
    m.recording = name;
    m.frames = n;
    const double k = n > 0 ? 1.0 / static_cast<double>(n) : 0.0;
    m.mse = se * k / 2, m.mae = ae * k / 2;
    m.mse_v = se_v * k, m.mse_w = se_w * k;
    m.mae_v = ae_v * k, m.mae_w = ae_w * k;
    return m;
  }
};

}  // namespace

ModelRunner::ModelRunner(runtime::Model model, int threads)
    : model_(std::move(model)), threads_(threads) {}

void ModelRunner::run(std::span<const float> input, int64_t batch, std::span<float> output) {
  auto it = sessions_.find(batch);
  if (it == sessions_.end()) {
    runtime::SessionOptions options;
    options.threads = threads_;
    options.batch = batch;
    options.bf16 = model_.prefers_bf16();  // CPUs without bf16 run such models in fp32
    it = sessions_.emplace(batch, runtime::Session(model_, options)).first;
  }
  runtime::Session& session = it->second;
  session.run(input.first(static_cast<size_t>(session.inputs()[0].element_count())),
              output.first(static_cast<size_t>(session.outputs()[0].element_count())));
}

OpenedModel open_model(const fs::path& path, int threads) {
  runtime::Model model = runtime::Model::load(path);
  const std::string where = path.string();
  const data::ModelMetadata metadata = data::metadata_from_props(model.metadata(), where);
  const auto& spec = metadata.preprocess;
  if (model.inputs().size() != 1 || model.outputs().size() != 1) {
    throw InputError(where + ": model has " + std::to_string(model.inputs().size()) +
                     " inputs and " + std::to_string(model.outputs().size()) +
                     " outputs; a driving model has one image input and one output");
  }
  const runtime::TensorInfo& input = model.inputs()[0];
  const onnx::DType input_type = model.graph().values[model.graph().inputs[0]].dtype;
  const bool nchw = spec.layout == "nchw";
  const std::vector<int64_t> want = nchw ? std::vector<int64_t>{3, spec.height, spec.width}
                                         : std::vector<int64_t>{spec.height, spec.width, 3};
  // uint8 inputs (int8-only models) take raw pixels: their preprocessing metadata says so.
  if ((input_type != onnx::DType::f32 && input_type != onnx::DType::u8) ||
      input.shape.size() != 4) {
    throw InputError(where + ": input '" + input.name +
                     "' must be float32 (or uint8) of rank 4 (N, C, H, W); this is not a driving "
                     "model");
  }
  for (size_t d = 1; d < 4; ++d) {
    if (input.shape[d] != want[d - 1]) {
      throw InputError(
          where + ": input '" + input.name + "' has shape [N," + std::to_string(input.shape[1]) +
          "," + std::to_string(input.shape[2]) + "," + std::to_string(input.shape[3]) +
          "] but its preprocessing metadata gives a " + std::to_string(spec.width) + "x" +
          std::to_string(spec.height) + " " + spec.layout + " image; fix pitlane.preprocess");
    }
  }
  const runtime::TensorInfo& output = model.outputs()[0];
  const int64_t output_count = static_cast<int64_t>(metadata.outputs.names.size());
  if (output.shape.size() != 2 || output.shape[1] != output_count) {
    throw InputError(where + ": output '" + output.name + "' must have shape [N, " +
                     std::to_string(output_count) + "] (one value per output name)");
  }
  if (output_count < 2) {
    throw InputError(where + ": pitlane.outputs names " + std::to_string(output_count) +
                     " outputs; a driving model predicts v and w");
  }
  return OpenedModel{.metadata = metadata,
                     .channels = 3,
                     .height = spec.height,
                     .width = spec.width,
                     .output_count = output_count,
                     .input_name = input.name,
                     .output_name = output.name,
                     .runner = ModelRunner(std::move(model), threads)};
}

EvalReport evaluate_recordings(OpenedModel& model, const std::vector<data::Recording>& recs,
                               const EvalConfig& config) {
  EvalReport report;
  report.arch = model.metadata.arch;
  report.recipe = model.metadata.recipe;
  const auto& spec = model.metadata.preprocess;
  const auto& outputs = model.metadata.outputs;
  const int64_t k = model.output_count;
  Accumulator total;
  double seconds = 0.0;
  data::LoaderConfig lc;
  lc.batch_size = config.batch_size;
  for (size_t r = 0; r < recs.size(); ++r) {
    const int id = static_cast<int>(r);
    const std::vector<data::SampleRef> index = data::build_index(recs, {&id, 1}, false);
    Accumulator acc;
    data::Batch batch;
    std::vector<float> out;
    for (size_t first = 0; first < index.size(); first += config.batch_size) {
      const size_t count = std::min<size_t>(config.batch_size, index.size() - first);
      data::make_batch(recs, index, first, count, spec, outputs, lc, 0, batch);
      out.assign(count * k, 0.0f);
      const auto t0 = std::chrono::steady_clock::now();
      model.runner.run(batch.images, static_cast<int64_t>(count), out);
      seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      for (size_t i = 0; i < count; ++i) {
        const data::Frame& f = recs[r].frames[index[first + i].frame];
        // int8-only models: de-quantized with the scale and zero point of their metadata.
        const auto& q = model.metadata.output_quantization;
        const double pv = q.dequantize(out[i * k]), pw = q.dequantize(out[i * k + 1]);
        acc.add(pv, pw, batch.labels[2 * i], batch.labels[2 * i + 1], f.v, f.w,
                outputs.denormalize(0, pv), outputs.denormalize(1, pw));
      }
    }
    report.per_recording.push_back(acc.metrics(recs[r].name));
    total.merge(acc);
  }
  report.overall = total.metrics("overall");
  report.seconds = seconds;
  report.images_per_s = seconds > 0 ? static_cast<double>(total.n) / seconds : 0.0;
  return report;
}

EvalReport evaluate_model(const fs::path& model_path, std::span<const fs::path> data,
                          const EvalConfig& config) {
  OpenedModel model = open_model(model_path, config.threads);
  std::vector<data::Recording> recs = data::load_recordings(data);
  for (auto& r : recs) data::load_images(r, model.metadata.preprocess, config.load_threads);
  EvalReport report = evaluate_recordings(model, recs, config);
  report.model = model_path.filename().string();
  const std::string bytes = read_file(model_path);
  report.model_bytes = static_cast<int64_t>(bytes.size());
  report.model_gzip_bytes = gzip_size(bytes);
  return report;
}

std::string eval_json(const EvalReport& r) {
  using nlohmann::json;
  auto metrics = [](const EvalMetrics& m) {
    return json{{"recording", m.recording},
                {"frames", m.frames},
                {"mse", m.mse},
                {"mae", m.mae},
                {"mse_v", m.mse_v},
                {"mse_w", m.mse_w},
                {"mae_v_m_s", m.mae_v},
                {"mae_w_rad_s", m.mae_w}};
  };
  json j;
  j["model"] = r.model;
  j["arch"] = r.arch;
  j["recipe"] = r.recipe;
  j["model_bytes"] = r.model_bytes;
  j["model_gzip_bytes"] = r.model_gzip_bytes;
  j["overall"] = metrics(r.overall);
  j["per_recording"] = json::array();
  for (const auto& m : r.per_recording) j["per_recording"].push_back(metrics(m));
  j["timing"] = {{"inference_s", r.seconds}, {"images_per_s", r.images_per_s}};
  j["notes"] =
      "mse/mae on labels normalized to [0,1] (v'=(v-6.5)/17.5, w'=(w+7.1)/14.2), "
      "averaged over both outputs; mae_v/mae_w in physical units";
  return j.dump(2) + "\n";
}

std::string eval_table(const EvalReport& r) {
  Table t({"recording", "frames", "mse", "mae", "mae_v m/s", "mae_w rad/s"});
  auto add = [&](const EvalMetrics& m) {
    t.add({m.recording, std::to_string(m.frames), format_fixed(m.mse, 4), format_fixed(m.mae, 4),
           format_fixed(m.mae_v, 3), format_fixed(m.mae_w, 3)});
  };
  for (const auto& m : r.per_recording) add(m);
  add(r.overall);
  std::string out = t.render();
  out += "model " + r.model + " (" + (r.arch.empty() ? "unknown arch" : r.arch) + ", recipe " +
         (r.recipe.empty() ? "?" : r.recipe) +
         "): " + format_fixed(static_cast<double>(r.model_bytes) / 1e6, 2) + " MB, gzipped " +
         format_fixed(static_cast<double>(r.model_gzip_bytes) / 1e6, 2) + " MB; inference " +
         format_fixed(r.images_per_s, 0) + " images/s\n";
  return out;
}

}  // namespace pitlane::eval
