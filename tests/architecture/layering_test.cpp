// The architecture as a test: every folder of src/pitlane/ is one library, its includes of other
// folders must follow the dependencies its CMakeLists.txt declares (directly or through another
// library), and those dependencies form no cycle. A new include that crosses the layers, or a
// library linked both ways, fails here with the file and line.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace pitlane {
namespace {

const fs::path kSource = fs::path(PITLANE_SOURCE_DIR) / "src" / "pitlane";

std::string read_text(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> folders() {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(kSource))
    if (e.is_directory()) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

// folder -> the pitlane_<folder> libraries its CMakeLists.txt links (PUBLIC or PRIVATE).
std::map<std::string, std::set<std::string>> declared_dependencies() {
  std::map<std::string, std::set<std::string>> deps;
  const std::regex link(R"(target_link_libraries\(\s*pitlane_(\w+)([^)]*)\))");
  const std::regex lib(R"(\bpitlane_(\w+))");
  for (const auto& f : folders()) {
    const std::string cmake = read_text(kSource / f / "CMakeLists.txt");
    deps[f];
    for (std::sregex_iterator it(cmake.begin(), cmake.end(), link), end; it != end; ++it) {
      if ((*it)[1] != f) continue;
      const std::string args = (*it)[2];
      for (std::sregex_iterator l(args.begin(), args.end(), lib); l != end; ++l)
        if ((*l)[1] != "warnings" && (*l)[1] != "dnnl") deps[f].insert((*l)[1]);
    }
  }
  return deps;
}

std::set<std::string> reachable(const std::map<std::string, std::set<std::string>>& deps,
                                const std::string& from) {
  std::set<std::string> seen;
  std::vector<std::string> stack(deps.at(from).begin(), deps.at(from).end());
  while (!stack.empty()) {
    const std::string f = stack.back();
    stack.pop_back();
    if (!seen.insert(f).second || !deps.count(f)) continue;
    for (const auto& d : deps.at(f)) stack.push_back(d);
  }
  return seen;
}

TEST(Architecture, EveryFolderIsOneLibrary) {
  for (const auto& f : folders()) {
    const fs::path cmake = kSource / f / "CMakeLists.txt";
    ASSERT_TRUE(fs::exists(cmake)) << f << "/ has no CMakeLists.txt";
    EXPECT_NE(read_text(cmake).find("add_library(pitlane_" + f + " "), std::string::npos)
        << cmake << " must define pitlane_" << f;
  }
}

TEST(Architecture, DeclaredDependenciesFormADag) {
  const auto deps = declared_dependencies();
  for (const auto& [f, direct] : deps) {
    for (const auto& d : direct)
      EXPECT_TRUE(deps.count(d)) << "pitlane_" << f << " links pitlane_" << d
                                 << ", which no folder defines";
    EXPECT_FALSE(reachable(deps, f).count(f))
        << "pitlane_" << f << " depends on itself through its dependencies (a cycle)";
  }
}

TEST(Architecture, IncludesFollowTheDeclaredDependencies) {
  const auto deps = declared_dependencies();
  const std::regex include(R"(^\s*#\s*include\s+"pitlane/(\w+)/)");
  int checked = 0;
  for (const auto& f : folders()) {
    const std::set<std::string> allowed = reachable(deps, f);
    for (const auto& e : fs::recursive_directory_iterator(kSource / f)) {
      const auto ext = e.path().extension();
      if (ext != ".h" && ext != ".cpp") continue;
      std::ifstream in(e.path());
      std::string line;
      for (int n = 1; std::getline(in, line); ++n) {
        std::smatch m;
        if (!std::regex_search(line, m, include)) continue;
        ++checked;
        const std::string to = m[1];
        EXPECT_TRUE(to == f || allowed.count(to))
            << e.path().lexically_relative(kSource).string() << ":" << n << " includes pitlane/"
            << to << "/ but pitlane_" << f << " does not depend on pitlane_" << to
            << " (declare it in " << f << "/CMakeLists.txt if the layers allow it)";
      }
    }
  }
  EXPECT_GT(checked, 100);  // the scan found the sources
}

}  // namespace
}  // namespace pitlane
