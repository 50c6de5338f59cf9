#include "pitlane/study/stage_results.h"

#include <limits>

namespace pitlane::study {
namespace {

using Json = nlohmann::ordered_json;

// A number that may be NaN or infinite (a loss without validation data): JSON writes those as
// null, and null reads back as NaN, which writes as null again.
double number(const Json& j, const char* key) {
  const Json& v = j.at(key);
  return v.is_null() ? std::numeric_limits<double>::quiet_NaN() : v.get<double>();
}

std::vector<std::string> strings(const Json& j, const char* key) {
  return j.at(key).get<std::vector<std::string>>();
}

Json to_json(const TrainEpoch& e) {
  return {{"epoch", e.epoch}, {"train_loss", e.train_loss}, {"validation_loss", e.validation_loss}};
}
void from_json(const Json& j, TrainEpoch& e) {
  e.epoch = j.at("epoch").get<int>();
  e.train_loss = number(j, "train_loss");
  e.validation_loss = number(j, "validation_loss");
}

Json to_json(const TrainEpochWallClock& e) {
  return {{"epoch", e.epoch}, {"seconds", e.seconds}, {"images_per_s", e.images_per_s}};
}
void from_json(const Json& j, TrainEpochWallClock& e) {
  e.epoch = j.at("epoch").get<int>();
  e.seconds = number(j, "seconds");
  e.images_per_s = number(j, "images_per_s");
}

Json to_json(const RecordingError& e) {
  return {{"recording", e.recording}, {"mse", e.mse}, {"mae_w", e.mae_w}};
}
void from_json(const Json& j, RecordingError& e) {
  e.recording = j.at("recording").get<std::string>();
  e.mse = number(j, "mse");
  e.mae_w = number(j, "mae_w");
}

Json to_json(const LatencyStats& s) {
  return {{"median_ms", s.median_ms}, {"p90_ms", s.p90_ms}, {"p99_ms", s.p99_ms},
          {"min_ms", s.min_ms},       {"max_ms", s.max_ms}, {"runs", s.runs}};
}
void from_json(const Json& j, LatencyStats& s) {
  s.median_ms = number(j, "median_ms");
  s.p90_ms = number(j, "p90_ms");
  s.p99_ms = number(j, "p99_ms");
  s.min_ms = number(j, "min_ms");
  s.max_ms = number(j, "max_ms");
  s.runs = j.at("runs").get<int>();
}

// `items` each through to_json, as a JSON array.
template <typename T>
Json array_of(const std::vector<T>& items) {
  Json out = Json::array();
  for (const auto& item : items) out.push_back(to_json(item));
  return out;
}

// The array at `key` of `j`, each element through from_json.
template <typename T>
std::vector<T> vector_of(const Json& j, const char* key) {
  std::vector<T> out;
  for (const auto& item : j.at(key)) {
    T t;
    from_json(item, t);
    out.push_back(std::move(t));
  }
  return out;
}

// The wall clock of a whole stage, at the end of its "wall_clock" (added to what it has).
void put_stage_s(Json& j, double stage_s) {
  j["wall_clock"]["stage_s"] = stage_s;
}
double stage_s_of(const Json& j) {
  return number(j.at("wall_clock"), "stage_s");
}

}  // namespace

// Each to_json writes its keys in one fixed order; results.json copies parts of these as they
// are, so that order is part of the results' bytes.

Json to_json(const TrainRun& r) {
  Json j;
  j["model"] = r.model;
  j["arch"] = r.arch;
  j["parent"] = r.parent;
  j["training_data"] = r.training_data;
  j["validation_data"] = r.validation_data;
  j["best_epoch"] = r.best_epoch;
  j["best_validation_mse"] = r.best_validation_mse;
  j["epochs"] = array_of(r.epochs);
  j["wall_clock"] = {
      {"decode_s", r.decode_s}, {"total_s", r.total_s}, {"epochs", array_of(r.epoch_times)}};
  return j;
}
void from_json(const Json& j, TrainRun& r) {
  r.model = j.at("model").get<std::string>();
  r.arch = j.at("arch").get<std::string>();
  r.parent = j.at("parent").get<std::string>();
  r.training_data = strings(j, "training_data");
  r.validation_data = strings(j, "validation_data");
  r.best_epoch = j.at("best_epoch").get<int>();
  r.best_validation_mse = number(j, "best_validation_mse");
  r.epochs = vector_of<TrainEpoch>(j, "epochs");
  const Json& wall = j.at("wall_clock");
  r.decode_s = number(wall, "decode_s");
  r.total_s = number(wall, "total_s");
  r.epoch_times = vector_of<TrainEpochWallClock>(wall, "epochs");
}

Json to_json(const DaggerRound& r) {
  Json j = to_json(r.run);
  j["recordings"] = r.recordings;
  return j;
}
void from_json(const Json& j, DaggerRound& r) {
  from_json(j, r.run);
  r.recordings = strings(j, "recordings");
}

Json to_json(const OptimizedModel& m) {
  Json j = {{"name", m.name},
            {"file", m.file},
            {"recipe", m.recipe},
            {"report", m.report},
            {"fine_tuned", m.fine_tuned}};
  if (m.fine_tuned) {
    j["sparsity"] = m.sparsity;
    j["wall_clock"] = {{"phase_seconds", m.phase_seconds}};
  } else {
    j["worst_layers"] = m.worst_layers;
  }
  return j;
}
void from_json(const Json& j, OptimizedModel& m) {
  m.name = j.at("name").get<std::string>();
  m.file = j.at("file").get<std::string>();
  m.recipe = j.at("recipe").get<std::string>();
  m.report = j.at("report").get<std::string>();
  m.fine_tuned = j.at("fine_tuned").get<bool>();
  if (m.fine_tuned) {
    m.sparsity = number(j, "sparsity");
    m.phase_seconds = j.at("wall_clock").at("phase_seconds").get<std::vector<double>>();
  } else {
    m.worst_layers = strings(j, "worst_layers");
  }
}

Json to_json(const OfflineRow& r) {
  return {{"model", r.model},
          {"recipe", r.recipe},
          {"file", r.file},
          {"sha256", r.sha256},
          {"bytes", r.bytes},
          {"gzip_bytes", r.gzip_bytes},
          {"frames", r.frames},
          {"mse", r.mse},
          {"mae", r.mae},
          {"mse_v", r.mse_v},
          {"mse_w", r.mse_w},
          {"mae_v_mps", r.mae_v_mps},
          {"mae_w_radps", r.mae_w_radps},
          {"per_recording", array_of(r.per_recording)},
          {"wall_clock", {{"seconds", r.seconds}, {"images_per_s", r.images_per_s}}}};
}
void from_json(const Json& j, OfflineRow& r) {
  r.model = j.at("model").get<std::string>();
  r.recipe = j.at("recipe").get<std::string>();
  r.file = j.at("file").get<std::string>();
  r.sha256 = j.at("sha256").get<std::string>();
  r.bytes = j.at("bytes").get<int64_t>();
  r.gzip_bytes = j.at("gzip_bytes").get<int64_t>();
  r.frames = j.at("frames").get<int64_t>();
  r.mse = number(j, "mse");
  r.mae = number(j, "mae");
  r.mse_v = number(j, "mse_v");
  r.mse_w = number(j, "mse_w");
  r.mae_v_mps = number(j, "mae_v_mps");
  r.mae_w_radps = number(j, "mae_w_radps");
  r.per_recording = vector_of<RecordingError>(j, "per_recording");
  const Json& wall = j.at("wall_clock");
  r.seconds = number(wall, "seconds");
  r.images_per_s = number(wall, "images_per_s");
}

Json to_json(const LatencyRow& r) {
  return {{"model", r.model}, {"latency_ms", r.latency_ms}, {"wall_clock", to_json(r.measured)}};
}
void from_json(const Json& j, LatencyRow& r) {
  r.model = j.at("model").get<std::string>();
  r.latency_ms = number(j, "latency_ms");
  from_json(j.at("wall_clock"), r.measured);
}

Json to_json(const DriveRun& r) {
  return {{"model", r.model},         {"slowdown", r.slowdown},     {"circuit", r.circuit},
          {"direction", r.direction}, {"repetition", r.repetition}, {"trajectory", r.trajectory},
          {"metrics", r.metrics},     {"wall_clock", r.wall_clock}};
}
void from_json(const Json& j, DriveRun& r) {
  r.model = j.at("model").get<std::string>();
  r.slowdown = number(j, "slowdown");
  r.circuit = j.at("circuit").get<std::string>();
  r.direction = j.at("direction").get<std::string>();
  r.repetition = j.at("repetition").get<int>();
  r.trajectory = j.at("trajectory").get<std::string>();
  r.metrics = j.at("metrics");
  r.wall_clock = j.at("wall_clock");
}

Json to_json(const RecordResult& r) {
  Json j;
  j["train_recordings"] = r.train_recordings;
  j["test_recordings"] = r.test_recordings;
  Json files = r.train_recordings;
  for (const auto& t : r.test_recordings) files.push_back(t);
  j["files"] = files;
  put_stage_s(j, r.stage_s);
  return j;
}
void from_json(const Json& j, RecordResult& r) {
  r.train_recordings = strings(j, "train_recordings");
  r.test_recordings = strings(j, "test_recordings");
  r.stage_s = stage_s_of(j);
}

Json to_json(const TrainResult& r) {
  Json j = to_json(r.run);
  put_stage_s(j, r.stage_s);
  j["files"] = Json::array({r.run.model});
  return j;
}
void from_json(const Json& j, TrainResult& r) {
  from_json(j, r.run);
  r.stage_s = stage_s_of(j);
}

Json to_json(const DaggerResult& r) {
  Json j;
  j["initial_model"] = r.initial_model;
  j["model"] = r.model;
  j["rounds"] = array_of(r.rounds);
  Json files = Json::array({r.initial_model});
  for (const auto& round : r.rounds) {
    for (const auto& rec : round.recordings) files.push_back(rec);
    files.push_back(round.run.model);
  }
  j["files"] = files;
  put_stage_s(j, r.stage_s);
  return j;
}
void from_json(const Json& j, DaggerResult& r) {
  r.initial_model = j.at("initial_model").get<std::string>();
  r.model = j.at("model").get<std::string>();
  r.rounds = vector_of<DaggerRound>(j, "rounds");
  r.stage_s = stage_s_of(j);
}

Json to_json(const OptimizeResult& r) {
  Json j;
  j["models"] = array_of(r.models);
  Json files = Json::array();
  for (const auto& m : r.models) {
    files.push_back(m.file);
    files.push_back(m.report);
  }
  j["files"] = files;
  put_stage_s(j, r.stage_s);
  return j;
}
void from_json(const Json& j, OptimizeResult& r) {
  r.models = vector_of<OptimizedModel>(j, "models");
  r.stage_s = stage_s_of(j);
}

Json to_json(const EvaluateResult& r) {
  Json j;
  j["offline"] = array_of(r.offline);
  put_stage_s(j, r.stage_s);
  return j;
}
void from_json(const Json& j, EvaluateResult& r) {
  r.offline = vector_of<OfflineRow>(j, "offline");
  r.stage_s = stage_s_of(j);
}

Json to_json(const BenchmarkResult& r) {
  Json j;
  j["latency"] = array_of(r.latency);
  put_stage_s(j, r.stage_s);
  return j;
}
void from_json(const Json& j, BenchmarkResult& r) {
  r.latency = vector_of<LatencyRow>(j, "latency");
  r.stage_s = stage_s_of(j);
}

Json to_json(const DriveResult& r) {
  Json j;
  j["runs"] = array_of(r.runs);
  Json files = Json::array();
  for (const auto& run : r.runs)
    if (!run.trajectory.empty()) files.push_back(run.trajectory);
  j["files"] = files;
  put_stage_s(j, r.stage_s);
  return j;
}
void from_json(const Json& j, DriveResult& r) {
  r.runs = vector_of<DriveRun>(j, "runs");
  r.stage_s = stage_s_of(j);
}

}  // namespace pitlane::study
