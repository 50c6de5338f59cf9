// Writing outputs so that a failed or interrupted run leaves nothing half-written.
//
// Files are written to a temporary sibling and renamed into place; folders are filled under a
// temporary name (.NAME.partial-PID) and renamed when complete; such leftovers of a process that
// was killed are removed the next time the same output is written. Paths that cannot be written
// raise InputError naming the path.
//
//   write_file_atomic("runs/x/results.json", json_text);
//   StagedDir dir("recordings/simple_cw");   // fills recordings/simple_cw.partial-XXXX
//   ...write into dir.path()...
//   dir.commit();                            // renames onto recordings/simple_cw
#pragma once

#include <filesystem>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

namespace pitlane {

void write_file_atomic(const std::filesystem::path& path, std::string_view contents);

// Reads a whole file; InputError naming the path if it cannot be read.
std::string read_file(const std::filesystem::path& path);

// Checks early (before long work) that `path` can be created: its parent exists or can be
// created and a file can really be made there (a probe file, removed at once), and `path` is not
// a folder. InputError otherwise.
void check_writable(const std::filesystem::path& path);

// InputError "<output>: is the same file as the input <input>; write to another path" when
// `output` names one of `inputs` (after resolving '.', '..' and symbolic links, or the same file
// through another name). Outputs are checked before any work, so an input is never overwritten.
void check_not_an_input(const std::filesystem::path& output,
                        std::span<const std::filesystem::path> inputs);
void check_not_an_input(const std::filesystem::path& output,
                        std::initializer_list<std::filesystem::path> inputs);

// A name taken from a file (a model's output name, say) as one safe path component: letters,
// digits, '.', '-' and '_' are kept, every other byte becomes '_', a leading '.' becomes '_' (no
// "..", no hidden files), at most 100 bytes; an empty name becomes "unnamed".
std::string safe_file_name(std::string_view name);

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
