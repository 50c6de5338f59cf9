// Runs the pitlane binary as a user would and captures what it prints.
#pragma once

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

namespace pitlane::testing {

struct CommandResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

// Runs `pitlane ARGS REDIRECT` in a shell: its stdout and exit code.
inline CommandResult run_pitlane_shell(const std::string& args, const std::string& redirect) {
  const std::string cmd = std::string(PITLANE_BINARY) + " " + args + " " + redirect;
  CommandResult r;
  FILE* pipe = popen(cmd.c_str(), "r");
  if (pipe == nullptr) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) r.out.append(buf.data(), n);
  const int status = pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

inline CommandResult run_pitlane(const std::string& args, const std::string& err_file) {
  CommandResult r = run_pitlane_shell(args, "2>" + err_file);
  if (FILE* f = fopen(err_file.c_str(), "r")) {
    std::array<char, 4096> buf;
    size_t n;
    while ((n = fread(buf.data(), 1, buf.size(), f)) > 0) r.err.append(buf.data(), n);
    fclose(f);
  }
  return r;
}

// Runs pitlane with its stderr merged into `out`, for checks on everything it printed.
inline CommandResult run_pitlane_merged(const std::string& args) {
  return run_pitlane_shell(args, "2>&1");
}

}  // namespace pitlane::testing
