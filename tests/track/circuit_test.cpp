#include "pitlane/track/circuit.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "pitlane/core/error.h"

namespace pitlane::track {

std::vector<Vec2> ellipse(int n, double a, double b) {
  std::vector<Vec2> pts;
  for (int i = 0; i < n; ++i) {
    const double t = -2 * M_PI * i / n;  // clockwise
    pts.push_back({a * std::cos(t), b * std::sin(t)});
  }
  return pts;
}

TEST(Circuit, BuiltinLengthsMatchTheReference) {
  // REFERENCE section 2 gives the raw polylines' lengths. The raw points sit on a 0.13 m grid, and
  // the staircase overstates the length by 5-8%; the smoothed line must be a little shorter.
  const std::pair<const char*, double> expected[] = {{"simple_circuit", 463.7},
                                                     {"many_curves", 797.8},
                                                     {"montmelo", 765.0},
                                                     {"montreal", 1513.8},
                                                     {"nurburgring", 586.9}};
  ASSERT_EQ(builtin_circuit_names().size(), 5u);
  for (const auto& [name, length] : expected) {
    const Circuit c = load_circuit(name);
    EXPECT_LT(c.length(), length) << name;
    EXPECT_GT(c.length(), 0.92 * length) << name;
    // REFERENCE: the smoothed lines' tightest radii are about 2 to 4.5 m.
    double max_k = 0.0;
    for (double s = 0.0; s < c.length(); s += 0.25)
      max_k = std::max(max_k, std::abs(c.curvature_at(s)));
    EXPECT_GT(1.0 / max_k, 1.8) << name;
    EXPECT_LT(1.0 / max_k, 5.5) << name;
    EXPECT_GT(c.reference_lap_s(), 70.0) << name;
  }
}

TEST(Circuit, StartsAtTheOriginalSpawnPose) {
  const Circuit c = load_circuit("simple_circuit");
  const Pose2 start = c.start_pose();
  // The spawn lies within 0.3 m of the raw line, which smoothing moves by centimetres.
  EXPECT_LT(distance(start.position, {53.462, -10.734}), 0.4);
  EXPECT_LT(std::abs(wrap_angle(start.yaw - (-1.57))), 0.2);
  EXPECT_DOUBLE_EQ(c.reference_lap_s(), 75.0);
}

TEST(Circuit, ProjectRecoversArcLengthAndSignedOffset) {
  const Circuit c = load_circuit("nurburgring");
  for (double s = 0.3; s < c.length(); s += 37.1) {
    for (double lat : {-1.2, -0.3, 0.0, 0.5, 1.5}) {
      const Pose2 p = c.pose_at(s, lat);
      const TrackPoint tp = c.project(p.position);
      EXPECT_NEAR(tp.lateral, lat, 0.02) << "s=" << s;
      EXPECT_NEAR(c.arc_delta(s, tp.s), 0.0, 0.05) << "s=" << s;
      const TrackPoint near = c.project_near(p.position, s + 2.0, 5.0);
      EXPECT_NEAR(near.distance, tp.distance, 1e-9);
    }
  }
}

TEST(Circuit, ReversedDrivesTheOtherWay) {
  const Circuit cw = load_circuit("montmelo");
  const Circuit ccw = load_circuit("montmelo", Direction::kCounterClockwise);
  EXPECT_EQ(ccw.direction(), Direction::kCounterClockwise);
  EXPECT_NEAR(cw.length(), ccw.length(), 1e-6);
  const Pose2 a = cw.start_pose(), b = ccw.start_pose();
  EXPECT_LT(distance(a.position, b.position), 0.05);
  EXPECT_NEAR(std::abs(wrap_angle(a.yaw - b.yaw)), M_PI, 0.05);
  // A point left of the clockwise road is right of the counter-clockwise one.
  const Vec2 p = cw.pose_at(100.0, 0.7).position;
  EXPECT_NEAR(cw.project(p).lateral, -ccw.project(p).lateral, 1e-9);
  EXPECT_NEAR(cw.curvature_at(100.0), -ccw.curvature_at(ccw.length() - 100.0), 1e-3);
}

TEST(Circuit, CurvatureOfACircle) {
  const Circuit c = Circuit::from_points("circle", "test", ellipse(400, 20, 20));
  for (double s = 0; s < c.length(); s += 10) EXPECT_NEAR(c.curvature_at(s), -1.0 / 20, 1e-3);
}

TEST(Circuit, RandomStartsAreSeededAndOnTheRoad) {
  const Circuit c = load_circuit("montreal");
  Rng a(5), b(5);
  for (int i = 0; i < 50; ++i) {
    const Pose2 p = random_start(c, a, {});
    EXPECT_EQ(p, random_start(c, b, {}));
    EXPECT_LE(c.project(p.position).distance, 1.0 + 1e-6);
  }
}

void expect_input_error(const std::vector<Vec2>& pts, const std::string& fragment) {
  try {
    Circuit::from_points("bad", "bad.csv", pts);
    FAIL() << "expected InputError containing '" << fragment << "'";
  } catch (const InputError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("bad.csv"), std::string::npos) << msg;
    EXPECT_NE(msg.find(fragment), std::string::npos) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << "one line: " << msg;
  }
}

TEST(Circuit, RejectsBadCentreLines) {
  expect_input_error({{0, 0}, {1, 0}, {1, 1}}, "at least 10");
  auto with_nan = ellipse(100, 30, 20);
  with_nan[40].y = std::nan("");
  expect_input_error(with_nan, "point 41");
  auto open = ellipse(100, 30, 20);
  open.resize(70);
  expect_input_error(open, "open");
  std::vector<Vec2> eight;  // a figure eight crosses itself
  for (int i = 0; i < 200; ++i) {
    const double t = 2 * M_PI * i / 200;
    eight.push_back({40 * std::sin(t), 20 * std::sin(t) * std::cos(t)});
  }
  expect_input_error(eight, "crosses itself");
  // Kilometre-scale coordinates read as metres: refused before anything is sized from them.
  auto huge = ellipse(100, 30, 20);
  for (Vec2& p : huge) p = p * 1e5;
  expect_input_error(huge, "pitlane takes circuits up to 50 km long within 20 km");
  // A long but legal line far from the origin (world coordinates) still loads.
  auto far = ellipse(200, 300, 200);
  for (Vec2& p : far) p = p + Vec2{4.5e5, 5.1e6};
  EXPECT_NO_THROW(Circuit::from_points("far", "far.csv", far));
}

TEST(CircuitCsv, ParsesAndReportsLineNumbers) {
  const auto pts = parse_centre_line_csv("x_m,y_m\n1,2\n 3.5 , -4\n\n", "t.csv");
  ASSERT_EQ(pts.size(), 2u);
  EXPECT_EQ(pts[1], (Vec2{3.5, -4}));
  try {
    parse_centre_line_csv("x_m,y_m\n1,2\n3,abc\n", "t.csv");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("t.csv:3"), std::string::npos) << e.what();
  }
  EXPECT_THROW(parse_centre_line_csv("1,2\n1;2\n", "t.csv"), InputError);
}

TEST(CircuitCsv, UnknownNameListsTheBuiltins) {
  try {
    load_circuit("monaco_nope");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("simple_circuit"), std::string::npos);
  }
}

}  // namespace pitlane::track
