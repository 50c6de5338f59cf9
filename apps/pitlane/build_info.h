// What this binary is: `pitlane --version`. The values are generated at build time
// (cmake/build_info.cmake).
#pragma once

namespace pitlane::cli {

struct BuildInfo {
  const char* version;     // the project version (CMakeLists.txt)
  const char* git_commit;  // the checked-out commit, or "unknown" outside a git checkout
  bool dirty;              // the tree had uncommitted changes to tracked files
  const char* build_type;  // Release, RelWithDebInfo, ...
};

const BuildInfo& build_info();

}  // namespace pitlane::cli
