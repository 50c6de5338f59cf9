// pitlane --version: what this binary is and what it will run on.
#include <string>

#include "build_info.h"
#include "commands.h"
#include "pitlane/runtime/cpu_features.h"

namespace pitlane::cli {

std::string version_text() {
  const BuildInfo& b = build_info();
  std::string text = "pitlane " + std::string(b.version) + "\n";
  text +=
      "commit " + std::string(b.git_commit) + (b.dirty ? " (with uncommitted changes)" : "") + "\n";
  text += "build " + std::string(b.build_type) + ", " + "GCC " + __VERSION__ + "\n";
  text += "cpu " + runtime::cpu_features().describe() + "\n";
  return text;
}

}  // namespace pitlane::cli
