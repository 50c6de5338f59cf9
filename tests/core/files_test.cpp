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

TEST_F(FilesTest, AnOutputThatIsAnInputIsRefused) {
  write_file_atomic(dir_ / "model.onnx", "weights");
  fs::create_directory(dir_ / "sub");
  fs::create_symlink(dir_ / "model.onnx", dir_ / "link.onnx");
  // The same file by another spelling, through a symbolic link, or as a hard link.
  for (const fs::path& alias : {dir_ / "model.onnx", dir_ / "sub" / ".." / "model.onnx",
                                dir_ / "." / "model.onnx", dir_ / "link.onnx"}) {
    try {
      check_not_an_input(alias, {dir_ / "x.npy", dir_ / "model.onnx"});
      FAIL() << alias;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("is the same file as the input"), std::string::npos);
    }
  }
  fs::create_hard_link(dir_ / "model.onnx", dir_ / "hard.onnx");
  EXPECT_THROW(check_not_an_input(dir_ / "hard.onnx", {dir_ / "model.onnx"}), InputError);
  EXPECT_NO_THROW(check_not_an_input(dir_ / "out.onnx", {dir_ / "model.onnx", fs::path()}));
  EXPECT_EQ(read_file(dir_ / "model.onnx"), "weights");
}

TEST(SafeFileName, KeepsNamesInsideTheirFolder) {
  EXPECT_EQ(safe_file_name("vw"), "vw");
  EXPECT_EQ(safe_file_name("../../etc/passwd"), "_._.._etc_passwd");
  EXPECT_EQ(safe_file_name(".."), "_.");
  EXPECT_EQ(safe_file_name("/abs/path"), "_abs_path");
  EXPECT_EQ(safe_file_name(std::string("a\0b", 3)), "a_b");
  EXPECT_EQ(safe_file_name(""), "unnamed");
  EXPECT_EQ(safe_file_name(std::string(300, 'x')).size(), 100u);
  for (const char* bad : {"..", ".", "a/b", "/", "c:\\x"}) {
    const std::string s = safe_file_name(bad);
    EXPECT_EQ(s.find('/'), std::string::npos);
    EXPECT_NE(s, "..");
    EXPECT_NE(s, ".");
  }
}

}  // namespace pitlane
