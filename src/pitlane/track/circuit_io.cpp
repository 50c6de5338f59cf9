// Circuit loading: the built-in catalogue and centre-line CSV files.
#include <charconv>
#include <cmath>
#include <filesystem>
#include <limits>
#include <string>

#include "pitlane/core/error.h"
#include "pitlane/core/files.h"
#include "pitlane/track/circuit.h"
#include "pitlane/track/embedded_circuits.h"
#include "pitlane/track/generator.h"

namespace pitlane::track {
namespace {

// Spawn poses and the expert's lap times of the original worlds (REFERENCE section 2).
struct CatalogEntry {
  std::string_view name;
  Vec2 spawn;
  double spawn_yaw;
  double reference_lap_s;
};
constexpr CatalogEntry kCatalog[] = {
    {"simple_circuit", {53.462, -10.734}, -1.57, 75.0},
    {"many_curves", {0.01, -0.02}, -1.73, 151.0},
    {"montmelo", {27.18, -31.55}, -3.12, 122.0},
    {"montreal", {-200.88, -90.72}, -2.83, 248.0},
    {"nurburgring", {-74.29, 37.74}, -0.51, 88.0},
};

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

bool parse_double(std::string_view s, double& out) {
  s = trim(s);
  if (s.empty()) return false;
  if (s.front() == '+') s.remove_prefix(1);
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

}  // namespace

std::vector<Vec2> parse_centre_line_csv(std::string_view text, std::string_view source) {
  std::vector<Vec2> points;
  size_t line_no = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = trim(text.substr(pos, end - pos));
    pos = end + 1;
    ++line_no;
    if (line.empty() || line.front() == '#') continue;
    const size_t comma = line.find(',');
    const std::string where = std::string(source) + ":" + std::to_string(line_no);
    if (comma == std::string_view::npos || line.find(',', comma + 1) != std::string_view::npos) {
      if (line_no == 1 && comma != std::string_view::npos) continue;  // a header with more columns
      throw InputError(where + ": expected two comma-separated numbers x_m,y_m, got '" +
                       std::string(line.substr(0, 40)) + "'");
    }
    double x = 0, y = 0;
    const bool ok =
        parse_double(line.substr(0, comma), x) && parse_double(line.substr(comma + 1), y);
    if (!ok) {
      if (points.empty() && line_no == 1) continue;  // header such as x_m,y_m
      throw InputError(where + ": '" + std::string(line.substr(0, 40)) +
                       "' is not a pair of numbers; write x_m,y_m in metres");
    }
    if (!std::isfinite(x) || !std::isfinite(y)) {
      throw InputError(where + ": non-finite coordinate; write finite x_m,y_m in metres");
    }
    points.push_back({x, y});
  }
  return points;
}

std::vector<std::string> builtin_circuit_names() {
  std::vector<std::string> names;
  for (const auto& e : embedded_circuits()) names.emplace_back(e.name);
  return names;
}

Circuit load_circuit(std::string_view name_or_path, Direction direction,
                     const CircuitOptions& options) {
  for (const auto& e : embedded_circuits()) {
    if (e.name != name_or_path) continue;
    const std::string source = "circuits/" + std::string(e.name) + ".csv";
    Circuit c = Circuit::from_points(std::string(e.name), source,
                                     parse_centre_line_csv(e.csv, source), options);
    for (const auto& entry : kCatalog) {
      if (entry.name == e.name) c.set_reference(c.project(entry.spawn).s, entry.reference_lap_s);
    }
    return direction == Direction::kClockwise ? c : c.reversed();
  }
  if (const auto seed = parse_generated_name(name_or_path)) {
    // A file-friendly name: recordings and results use it in folder names.
    Circuit c = Circuit::from_points("generated-" + std::to_string(*seed), name_or_path,
                                     generate_centre_line(*seed), options);
    return direction == Direction::kClockwise ? c : c.reversed();
  }
  const std::filesystem::path path(name_or_path);
  if (path.extension() != ".csv" && !std::filesystem::exists(path)) {
    std::string names;
    for (const auto& n : builtin_circuit_names()) names += (names.empty() ? "" : ", ") + n;
    throw InputError("circuit '" + std::string(name_or_path) + "' is not known; use one of " +
                     names + ", generated:SEED, or a path to a CSV of x_m,y_m centre-line points");
  }
  if (!std::filesystem::exists(path)) {
    throw InputError(path.string() + ": no such file; give a CSV of x_m,y_m centre-line points");
  }
  const std::string text = read_file(path);
  Circuit c = Circuit::from_points(path.stem().string(), path.string(),
                                   parse_centre_line_csv(text, path.string()), options);
  return direction == Direction::kClockwise ? c : c.reversed();
}

}  // namespace pitlane::track
