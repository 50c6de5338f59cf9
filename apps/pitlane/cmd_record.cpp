// pitlane record: the expert drives and writes training data in the DeepLearningStudio layout.
#include <iostream>

#include "commands.h"
#include "options.h"
#include "pitlane/brain/neural_brain.h"
#include "pitlane/core/table.h"
#include "pitlane/record/recorder.h"

namespace pitlane::cli {

void add_record_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("record", "Record the expert's frames and commands as a dataset");
  cmd->footer(
      "\nExamples:\n"
      "  pitlane record --circuits many_curves,nurburgring --out data --both-directions\n"
      "  pitlane record --circuits montreal --out data --frames 4000 --perturb --seed 3\n"
      "  pitlane record --circuits many_curves --out data --learner pilotnet.onnx\n"
      "\nWrites one folder per circuit and direction: N.png frames (640x480) and data.csv with\n"
      "'image_name, v, w, timestamp'. --perturb starts off-centre every 400 frames and adds\n"
      "recovery segments (the original's \"difficult situations\"). --learner lets a model drive\n"
      "while the expert labels every frame (DAgger): data from the states the model gets into.");
  auto opt = std::make_shared<record::RecordOptions>();
  auto out = std::make_shared<std::string>();
  auto timing = std::make_shared<std::string>("fixed:5");
  auto learner = std::make_shared<std::string>();
  auto both_directions = std::make_shared<bool>(false);
  cmd->add_option("--circuits", opt->circuits, "Comma-separated circuit names or CSV paths")
      ->required()
      ->delimiter(',');
  cmd->add_option("--out", *out, "Output folder")->required();
  cmd->add_option("--frames", opt->frames, "Frames per recording")
      ->capture_default_str()
      ->check(CLI::Range(1, 10'000'000))
      ->check(whole_in(1, 10'000'000));
  cmd->add_flag("--both-directions", *both_directions, "Also record counter-clockwise");
  cmd->add_flag("--perturb", opt->perturb, "Off-centre starts and recovery segments");
  cmd->add_flag("--randomize-style", opt->randomize_style, "Seeded brightness/hue/noise/fog");
  cmd->add_option("--seed", opt->seed, "Seed")->capture_default_str();
  cmd->add_option("--timing", *timing, "The expert's timing model")->capture_default_str();
  cmd->add_option("--learner", *learner, "MODEL.onnx that drives while the expert labels");
  cmd->add_option("--expert-share", opt->expert_share,
                  "With --learner: probability that an iteration executes the expert's command")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0))
      ->check(finite_in(0.0, 1.0));
  cmd->callback([opt, out, timing, learner, both_directions] {
    if (*both_directions) opt->directions.push_back(track::Direction::kCounterClockwise);
    opt->timing = sim::TimingModel::parse(*timing);
    std::unique_ptr<sim::Brain> model;
    if (!learner->empty()) {
      model = std::make_unique<brain::NeuralBrain>(*learner, brain::NeuralBrainOptions{});
      opt->learner = model.get();
    }
    const auto summaries = record::record(*opt, *out);
    Table table({"recording", "frames", "starts", "mean |w| rad/s"});
    for (const auto& s : summaries) {
      table.add({s.path.string(), std::to_string(s.frames), std::to_string(s.episodes),
                 format_fixed(s.mean_abs_w, 3)});
    }
    std::cout << table.render();
  });
}

}  // namespace pitlane::cli
