#include "pitlane/report/compare.h"

#include <string>

#include "pitlane/report/run_data.h"

namespace pitlane::report {
namespace {

void flatten_into(const Json& json, const std::string& path, Json& out) {
  if (json.is_object() && !json.empty()) {
    for (const auto& [key, value] : json.items()) {
      std::string child = path;
      if (!child.empty()) child += '.';
      child += key;
      flatten_into(value, child, out);
    }
  } else if (json.is_array() && !json.empty()) {
    for (size_t i = 0; i < json.size(); ++i)
      flatten_into(json[i], path + "[" + std::to_string(i) + "]", out);
  } else {
    out[path] = json;
  }
}

Json difference(const char* section, const std::string& key, const std::string& field,
                const Json& a, const Json& b) {
  return {{"section", section}, {"key", key}, {"field", field}, {"a", a}, {"b", b}};
}

// Rows of a table keyed by `key_of`, each side's rows in order; fields compared one by one.
template <typename KeyOf, typename Compare>
void compare_rows(const char* section, const Json& rows_a, const Json& rows_b, KeyOf key_of,
                  Compare compare_fields, Json& out) {
  auto find = [&](const Json& rows, const std::string& key) -> const Json* {
    for (const auto& r : rows)
      if (key_of(r) == key) return &r;
    return nullptr;
  };
  for (const auto& ra : rows_a) {
    const std::string key = key_of(ra);
    const Json* rb = find(rows_b, key);
    if (!rb) {
      out.push_back(difference(section, key, "present", true, nullptr));
      continue;
    }
    compare_fields(key, ra, *rb, out);
  }
  for (const auto& rb : rows_b) {
    const std::string key = key_of(rb);
    if (!find(rows_a, key)) out.push_back(difference(section, key, "present", nullptr, true));
  }
}

Json estimate(const Json& interval) {
  return interval.is_object() ? interval.value("estimate", Json()) : Json();
}

}  // namespace

Json flatten(const Json& json) {
  Json out = Json::object();
  flatten_into(json, "", out);
  return out;
}

Json differences(const Json& a, const Json& b) {
  Json out = Json::array();
  const Json fa = flatten(a.value("config", Json::object()));
  const Json fb = flatten(b.value("config", Json::object()));
  for (const auto& [path, value] : fa.items()) {
    if (!fb.contains(path)) {
      out.push_back(difference("config", path, "value", value, nullptr));
    } else if (fb[path] != value) {
      out.push_back(difference("config", path, "value", value, fb[path]));
    }
  }
  for (const auto& [path, value] : fb.items()) {
    if (!fa.contains(path)) out.push_back(difference("config", path, "value", nullptr, value));
  }
  for (const char* field : {"code_version", "metric_version"}) {
    if (a.value(field, Json()) != b.value(field, Json()))
      out.push_back(
          difference("version", field, field, a.value(field, Json()), b.value(field, Json())));
  }

  compare_rows(
      "offline", a.value("offline", Json::array()), b.value("offline", Json::array()),
      [](const Json& r) { return r.value("model", ""); },
      [](const std::string& key, const Json& ra, const Json& rb, Json& o) {
        for (const char* f :
             {"recipe", "bytes", "gzip_bytes", "mse", "mae", "mae_w_radps", "latency_ms"}) {
          if (ra.value(f, Json()) != rb.value(f, Json()))
            o.push_back(difference("offline", key, f, ra.value(f, Json()), rb.value(f, Json())));
        }
      },
      out);

  const Json cl_a = a.value("closed_loop", Json::object()).value("rows", Json::array());
  const Json cl_b = b.value("closed_loop", Json::object()).value("rows", Json::array());
  compare_rows(
      "closed_loop", cl_a, cl_b,
      [](const Json& r) { return variant_label(r.value("model", ""), r.value("slowdown", 1.0)); },
      [](const std::string& key, const Json& ra, const Json& rb, Json& o) {
        for (const char* f : {"episodes", "completed"}) {
          if (ra.value(f, Json()) != rb.value(f, Json()))
            o.push_back(
                difference("closed_loop", key, f, ra.value(f, Json()), rb.value(f, Json())));
        }
        for (const char* f : {"completion", "driving_score", "average_speed_mps",
                              "deviation_mean_m", "infractions_per_km"}) {
          const Json ia = ra.value(f, Json()), ib = rb.value(f, Json());
          if (estimate(ia) == estimate(ib)) continue;
          Json d = difference("closed_loop", key, f, estimate(ia), estimate(ib));
          if (ia.is_object() && ib.is_object()) {
            d["separated"] = ia.value("high", 0.0) < ib.value("low", 0.0) ||
                             ib.value("high", 0.0) < ia.value("low", 0.0);
          }
          o.push_back(d);
        }
        const Json va = ra.value("vs_baseline", Json::object()).value("verdict", Json());
        const Json vb = rb.value("vs_baseline", Json::object()).value("verdict", Json());
        if (va != vb) o.push_back(difference("closed_loop", key, "verdict", va, vb));
      },
      out);
  return out;
}

}  // namespace pitlane::report
