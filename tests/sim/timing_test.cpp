#include "pitlane/sim/timing.h"

#include <gtest/gtest.h>

#include "pitlane/core/error.h"

namespace pitlane::sim {

TEST(Timing, ParsesEveryForm) {
  EXPECT_EQ(TimingModel::parse("fixed:5").latency_us(123.0), 5000);
  EXPECT_EQ(TimingModel::parse("fixed:0.25").latency_us(0.0), 250);
  EXPECT_EQ(TimingModel::parse("measured").latency_us(1.5), 1500);
  for (const char* form : {"measured x30", "measuredx30", "measured:x30"}) {
    const TimingModel t = TimingModel::parse(form);
    EXPECT_EQ(t.kind, TimingModel::Kind::kMeasured) << form;
    EXPECT_EQ(t.latency_us(1.8), 54000) << form;
    EXPECT_EQ(t.describe(), "measured x30");
  }
  EXPECT_EQ(TimingModel::parse("realtime").kind, TimingModel::Kind::kRealtime);
  EXPECT_TRUE(TimingModel::parse("fixed:5").deterministic());
  EXPECT_FALSE(TimingModel::parse("measured").deterministic());
  EXPECT_EQ(TimingModel::parse("fixed:5").describe(), "fixed:5");
}

TEST(Timing, RejectsNonsense) {
  for (const char* bad : {"", "fixed", "fixed:", "fixed:-1", "fixed:abc", "measured x", "measured x0",
                          "measured 30", "slow", "fixed:1e9"}) {
    EXPECT_THROW(TimingModel::parse(bad), InputError) << bad;
  }
}

}  // namespace pitlane::sim
