// Writing outputs so that a failed or interrupted run leaves nothing half-written.
//
// Files are written to a temporary sibling and renamed into place; folders are filled under a
// temporary name and renamed when complete. Paths that cannot be written raise InputError naming
// the path.
//
//   write_file_atomic("runs/x/results.json", json_text);
//   StagedDir dir("recordings/simple_cw");   // fills recordings/simple_cw.partial-XXXX
//   ...write into dir.path()...
//   dir.commit();                            // renames onto recordings/simple_cw
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace pitlane {

void write_file_atomic(const std::filesystem::path& path, std::string_view contents);

// Reads a whole file; InputError naming the path if it cannot be read.
std::string read_file(const std::filesystem::path& path);

// Checks early (before long work) that `path` can be created: its parent exists or can be
// created and is writable. InputError otherwise.
void check_writable(const std::filesystem::path& path);

class StagedDir {
 public:
  explicit StagedDir(std::filesystem::path final_path);
  ~StagedDir();  // removes the staging folder unless committed
  StagedDir(const StagedDir&) = delete;
  StagedDir& operator=(const StagedDir&) = delete;

  const std::filesystem::path& path() const { return staging_; }
  // Replaces final_path (if it exists) with the staged folder.
  void commit();

 private:
  std::filesystem::path final_;
  std::filesystem::path staging_;
  bool committed_ = false;
};

}  // namespace pitlane
