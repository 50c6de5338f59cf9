// pitlane circuits: lists the built-in circuits with their length and reference lap time.
#include <iostream>

#include "commands.h"
#include "pitlane/core/table.h"
#include "pitlane/track/circuit.h"

namespace pitlane::cli {

void add_circuits_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("circuits", "List the built-in circuits");
  cmd->footer(
      "\nBesides these: any centre-line CSV (x_m,y_m per line, metres), and generated:SEED, a\n"
      "seeded random circuit that no model was trained on, e.g.\n"
      "  pitlane drive --circuit generated:11 --brain pilotnet.onnx");
  cmd->callback([] {
    Table table({"circuit", "length_m", "reference_lap_s", "min_radius_m"});
    for (const auto& name : track::builtin_circuit_names()) {
      const track::Circuit c = track::load_circuit(name);
      double max_k = 0.0;
      for (double s = 0.0; s < c.length(); s += 0.5)
        max_k = std::max(max_k, std::abs(c.curvature_at(s)));
      table.add({name, format_fixed(c.length(), 1), format_fixed(c.reference_lap_s(), 0),
                 format_fixed(max_k > 0 ? 1.0 / max_k : 0.0, 1)});
    }
    std::cout << table.render();
  });
}

}  // namespace pitlane::cli
