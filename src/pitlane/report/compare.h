// What differs between two runs of a study, for `pitlane compare`: the configuration (flattened
// to paths such as drive.slowdowns[1]), the code and metric versions, the offline rows (per
// model) and the closed-loop rows (per model and slowdown). The page highlights exactly these.
//
//   Json d = differences(run_page_data_a, run_page_data_b);
//   // [{"section": "offline", "key": "int8", "field": "mse", "a": 0.0194, "b": 0.0201}, ...]
#pragma once

#include <nlohmann/json.hpp>

namespace pitlane::report {

// Each difference: {"section", "key", "field", "a", "b"}; a row or key present in one run only
// has the other side null and "field" "present". Closed-loop intervals compare their estimates;
// "separated" tells whether the two 95% intervals do not overlap.
nlohmann::ordered_json differences(const nlohmann::ordered_json& a,
                                   const nlohmann::ordered_json& b);

// `json` flattened to {"path": leaf value}: objects by "key" / "a.b", arrays by "[i]".
nlohmann::ordered_json flatten(const nlohmann::ordered_json& json);

}  // namespace pitlane::report
