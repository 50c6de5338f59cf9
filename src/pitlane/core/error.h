// Errors at module boundaries.
//
// Two kinds, told apart by the exit code the CLI gives them:
//   InputError: the user's input is wrong (a file, an argument, a config key). The message is one
//               line naming the file, the place and the fix. Exit code 2.
//   RunError:   the input was fine but the run could not complete (exit code 1).
//
//   throw InputError("circuits/x.csv:12: 'abc' is not a number; write x_m,y_m in metres");
#pragma once

#include <stdexcept>
#include <string>

namespace pitlane {

class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class RunError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace pitlane
