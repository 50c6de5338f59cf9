#include "pitlane/study/config.h"

#include <gtest/gtest.h>

#include "pitlane/core/error.h"

namespace pitlane::study {
namespace {

// The error text for `yaml`, or "" if it parses.
std::string error_of(const std::string& yaml) {
  try {
    (void)parse_study_config(yaml, "s.yaml");
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(StudyConfig, CommittedConfigsLoad) {
  const StudyConfig d = load_study_config(PITLANE_SOURCE_DIR "/configs/default.yaml");
  EXPECT_EQ(d.name, "default");
  EXPECT_EQ(d.record.circuits, (std::vector<std::string>{"many_curves", "nurburgring"}));
  EXPECT_EQ(d.drive.circuits, (std::vector<std::string>{"simple_circuit", "montmelo", "montreal",
                                                        "generated:1", "generated:2"}));
  EXPECT_EQ(d.drive.slowdowns, (std::vector<double>{1.0, 30.0, 150.0}));
  const StudyConfig q = load_study_config(PITLANE_SOURCE_DIR "/configs/quick.yaml");
  EXPECT_EQ(q.name, "quick");
  EXPECT_EQ(q.seed, 7u);
  EXPECT_EQ(q.train.epochs, 1);
  EXPECT_DOUBLE_EQ(q.benchmark.latency_quantum_ms, 10.0);
  // Keys a config leaves out keep their defaults.
  EXPECT_EQ(q.train.arch, "pilotnet");
  EXPECT_EQ(q.train.output_weights, (std::vector<double>{1.0, 10.0}));
}

TEST(StudyConfig, ValuesOverrideDefaults) {
  const StudyConfig c = parse_study_config(
      "name: a-1\nseed: 9\ntrain:\n  arch: pilotnet-same\n  epochs: 3\n"
      "drive:\n  slowdowns: [1, 2.5]\n  timing: fixed:20\n  expert: false\n",
      "s.yaml");
  EXPECT_EQ(c.name, "a-1");
  EXPECT_EQ(c.seed, 9u);
  EXPECT_EQ(c.train.arch, "pilotnet-same");
  EXPECT_EQ(c.train.epochs, 3);
  EXPECT_EQ(c.drive.slowdowns, (std::vector<double>{1.0, 2.5}));
  EXPECT_EQ(c.drive.timing, "fixed:20");
  EXPECT_FALSE(c.drive.expert);
}

TEST(StudyConfig, UnknownKeyNamesFileLineAndAllowedKeys) {
  const std::string e = error_of("name: x\ntrain:\n  epochs: 2\n  epoch: 3\n");
  EXPECT_NE(e.find("s.yaml:4:3"), std::string::npos) << e;
  EXPECT_NE(e.find("unknown key 'epoch'"), std::string::npos) << e;
  EXPECT_NE(e.find("train"), std::string::npos) << e;
  EXPECT_NE(e.find("samples_per_epoch"), std::string::npos) << e;  // lists what is allowed
  EXPECT_NE(error_of("nmae: x\n").find("unknown key 'nmae'"), std::string::npos);
}

TEST(StudyConfig, BadValuesAreOneLineErrorsWithThePlace) {
  const std::string wrong_type = error_of("train:\n  epochs: many\n");
  EXPECT_NE(wrong_type.find("s.yaml:2:11"), std::string::npos) << wrong_type;
  EXPECT_NE(wrong_type.find("whole number"), std::string::npos) << wrong_type;
  EXPECT_NE(error_of("train:\n  epochs: 0\n").find("out of range"), std::string::npos);
  EXPECT_NE(error_of("record:\n  circuits: [nowhere]\n").find("'nowhere'"), std::string::npos);
  EXPECT_NE(error_of("drive:\n  circuits: [generated:abc]\n").find("generated:SEED"),
            std::string::npos);
  EXPECT_NE(error_of("drive:\n  directions: [up]\n").find("cw or ccw"), std::string::npos);
  EXPECT_NE(error_of("drive:\n  timing: sometimes\n").find("drive.timing"), std::string::npos);
  EXPECT_NE(error_of("optimize:\n  recipes: [int4]\n").find("'int4'"), std::string::npos);
  EXPECT_NE(error_of("train:\n  arch: resnet\n").find("pilotnet-same"), std::string::npos);
  EXPECT_NE(error_of("train:\n  output_weights: [1]\n").find("two positive"), std::string::npos);
  EXPECT_NE(error_of("name: ../x\n").find("letters, digits"), std::string::npos);
  EXPECT_NE(error_of("train: [1, 2]\n").find("mapping"), std::string::npos);
  EXPECT_NE(error_of("train:\n  epochs: [1\n").find("not valid YAML"), std::string::npos);
  EXPECT_NE(error_of("").find("empty"), std::string::npos);
  for (const std::string& e : {wrong_type, error_of("train:\n  epoch: 3\n")}) {
    EXPECT_EQ(e.find('\n'), std::string::npos) << e;
  }
}

TEST(StudyConfig, MissingFileIsAnInputError) {
  EXPECT_THROW((void)load_study_config("/nonexistent/study.yaml"), InputError);
}

TEST(StudyConfig, JsonOmitsOnlySettingsThatCannotChangeResults) {
  StudyConfig a, b;
  b.drive.jobs = 7;  // parallel drives give the same results
  EXPECT_EQ(to_json(a).dump(), to_json(b).dump());
  b.drive.laps = 2;
  EXPECT_NE(to_json(a).dump(), to_json(b).dump());
}

}  // namespace
}  // namespace pitlane::study
