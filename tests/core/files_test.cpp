#include "pitlane/core/files.h"

#include <gtest/gtest.h>

#include "../temp_dir.h"

#include <filesystem>

#include "pitlane/core/error.h"

namespace fs = std::filesystem;

namespace pitlane {

class FilesTest : public ::testing::Test {
 protected:
  pitlane::testing::TempDir tmp_{"files"};
  const fs::path dir_ = tmp_.path();
};

TEST_F(FilesTest, AtomicWriteReplacesAndLeavesNoTemporaries) {
  const fs::path p = dir_ / "sub" / "out.json";
  write_file_atomic(p, "first");
  write_file_atomic(p, "second");
  EXPECT_EQ(read_file(p), "second");
  int entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(p.parent_path())) ++entries;
  EXPECT_EQ(entries, 1);
}

TEST_F(FilesTest, UnwritablePathIsAnInputError) {
  write_file_atomic(dir_ / "plain", "x");
  // A path below a regular file can never be created.
  EXPECT_THROW(write_file_atomic(dir_ / "plain" / "out.json", "x"), InputError);
  EXPECT_THROW(read_file(dir_ / "missing"), InputError);
}

TEST_F(FilesTest, StagedDirAppearsOnlyOnCommit) {
  const fs::path target = dir_ / "rec";
  {
    StagedDir staged(target);
    write_file_atomic(staged.path() / "a.txt", "a");
    EXPECT_FALSE(fs::exists(target));
  }
  EXPECT_FALSE(fs::exists(target));  // abandoned: nothing half-written is left
  {
    StagedDir staged(target);
    write_file_atomic(staged.path() / "a.txt", "a");
    staged.commit();
  }
  EXPECT_EQ(read_file(target / "a.txt"), "a");
  int entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir_)) ++entries;
  EXPECT_EQ(entries, 1);
}

}  // namespace pitlane
