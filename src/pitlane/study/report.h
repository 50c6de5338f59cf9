// The study's results: one JSON document and the tables shaped like the study's.
//
// results.json holds the configuration, the training summary, the offline table (size, gzipped
// size, MSE, MAE, latency), every closed-loop run (with its trajectory file), a per-circuit
// summary, and the verdicts: per model and device, each metric's mean with its 95% interval, the
// completion rate k/N with its Wilson interval, and the driving score compared with the
// baseline's on the same seeded episodes (worse / equal / better). "metric_version" names the
// driving score's formula (pitlane-ds/1). Deterministic
// values sit at the top level of each entry; wall-clock measurements only under "wall_clock"
// keys, so two runs of the same config compare equal once those keys are dropped.
//
//   Json results = build_results(config, stages, wall_clock);   // stages: StudyStages
//   std::cout << results_tables(results, /*markdown=*/false);
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "pitlane/study/config.h"
#include "pitlane/study/stage_results.h"

namespace pitlane::study {

// `stages`: every stage's result; `wall_clock` is the run's own timing.
nlohmann::ordered_json build_results(const StudyConfig& config, const StudyStages& stages,
                                     const nlohmann::ordered_json& wall_clock);
// The same from the study's name and its configuration as to_json(StudyConfig) wrote it (what
// merging shards has: merge.h).
nlohmann::ordered_json build_results(const std::string& study, const nlohmann::ordered_json& config,
                                     const StudyStages& stages,
                                     const nlohmann::ordered_json& wall_clock);

// The offline table, the verdicts and one closed-loop table per circuit (text or Markdown).
std::string results_tables(const nlohmann::ordered_json& results, bool markdown);

// results.md: a title, what was run, and the tables.
std::string results_markdown(const nlohmann::ordered_json& results);

// `json` with every "wall_clock" key removed, at any depth (what determinism compares).
nlohmann::ordered_json without_wall_clock(const nlohmann::ordered_json& json);

}  // namespace pitlane::study
