// pitlane render: one camera frame at a place on a circuit, as PNG (for docs and debugging).
#include <iostream>

#include <opencv2/imgcodecs.hpp>

#include "commands.h"
#include "options.h"
#include "pitlane/core/error.h"
#include "pitlane/core/files.h"
#include "pitlane/sim/renderer.h"

namespace pitlane::cli {

void add_render_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("render", "Render one camera frame at a place on a circuit");
  cmd->footer(
      "\nExamples:\n"
      "  pitlane render --circuit montreal --at 120 --out frame.png\n"
      "  pitlane render --circuit simple_circuit --at 40 --lateral 0.8 --yaw 0.2 --line white "
      "--out f.png\n"
      "  pitlane render --circuit nurburgring --style-seed 3 --out randomized.png");
  struct Options {
    std::string circuit = "simple_circuit", direction = "cw", line = "red", out;
    double at = -1.0, lateral = 0.0, yaw = 0.0;
    int64_t style_seed = -1;
  };
  auto opt = std::make_shared<Options>();
  cmd->add_option("--circuit", opt->circuit, "Built-in circuit name or CSV path")
      ->capture_default_str();
  cmd->add_option("--direction", opt->direction, "cw or ccw")->capture_default_str();
  cmd->add_option("--at", opt->at, "Arc length along the centre line, m (default: the start)")
      ->check(finite_in(-1e6, 1e6));
  cmd->add_option("--lateral", opt->lateral, "Offset from the centre line, m, left positive")
      ->check(finite_in(-50.0, 50.0));
  cmd->add_option("--yaw", opt->yaw, "Heading offset from the road's direction, rad")
      ->check(finite_in(-7.0, 7.0));
  cmd->add_option("--line", opt->line, "Centre line: red, white or none")->capture_default_str();
  cmd->add_option("--style-seed", opt->style_seed, "Randomize brightness, hue, noise, fog");
  cmd->add_option("--out", opt->out, "Output PNG")->required();
  cmd->callback([opt] {
    check_writable(opt->out);
    check_not_an_input(opt->out, {opt->circuit});
    const track::Circuit circuit =
        track::load_circuit(opt->circuit, track::parse_direction(opt->direction));
    sim::Renderer renderer(circuit);
    sim::RenderStyle style;
    if (opt->style_seed >= 0) {
      Rng rng(static_cast<uint64_t>(opt->style_seed));
      style = sim::random_style(rng);
    }
    style.line = sim::parse_line_style(opt->line);
    const double s = opt->at >= 0 ? opt->at : circuit.start_s();
    cv::Mat frame;
    renderer.render(circuit.pose_at(s, opt->lateral, opt->yaw), style, 0, frame);
    std::vector<uchar> png;
    cv::imencode(".png", frame, png);
    write_file_atomic(opt->out,
                      std::string_view(reinterpret_cast<const char*>(png.data()), png.size()));
    std::cout << opt->out << "\n";
  });
}

}  // namespace pitlane::cli
