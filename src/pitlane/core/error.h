// Errors at module boundaries.
//
// Two kinds, told apart by the exit code the CLI gives them:
//   InputError: the user's input is wrong (a file, an argument, a config key). The message is one
//               line naming the file, the place and the fix. Exit code 2.
//   RunError:   the input was fine but the run could not complete (exit code 1).
//
// Messages quote names taken from files and arguments, which may hold anything: both kinds store
// their message escaped (printable_message), so a NUL cannot cut it short and control bytes or
// invalid UTF-8 never reach the terminal raw.
//
//   throw InputError("circuits/x.csv:12: 'abc' is not a number; write x_m,y_m in metres");
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace pitlane {

// `text` with NUL, control bytes and bytes that are not valid UTF-8 written as escapes (\0, \n,
// \t, \r, \xHH); valid UTF-8 (accents, symbols) is kept.
std::string printable_message(std::string_view text);

class InputError : public std::runtime_error {
 public:
  explicit InputError(std::string_view message) : std::runtime_error(printable_message(message)) {}
};

class RunError : public std::runtime_error {
 public:
  explicit RunError(std::string_view message) : std::runtime_error(printable_message(message)) {}
};

}  // namespace pitlane
