// Ctrl-C (SIGINT) and SIGTERM as a request to stop cleanly. Inside an InterruptScope the signal
// only raises a flag; the long-running loop polls check(), which throws Interrupted, so the stack
// unwinds and every RAII owner of partial output (StagedDir, temporary files) removes it. Outside
// a scope the signals keep their previous behaviour.
//
// The flag is the one piece of process-wide state here: a signal handler can reach nothing else.
//
//   InterruptScope interrupts;
//   for (...) { interrupts.check(); ...write into a StagedDir... }
#pragma once

#include <signal.h>

#include <string>

#include "pitlane/core/error.h"

namespace pitlane {

class Interrupted : public RunError {
 public:
  explicit Interrupted(int signal);
  int signal() const { return signal_; }
  int exit_code() const { return 128 + signal_; }  // the shell's convention (130 for Ctrl-C)

 private:
  int signal_;
};

class InterruptScope {
 public:
  InterruptScope();   // installs the SIGINT and SIGTERM handlers
  ~InterruptScope();  // restores the previous ones
  InterruptScope(const InterruptScope&) = delete;
  InterruptScope& operator=(const InterruptScope&) = delete;

  // Throws Interrupted when a signal arrived since the scope began.
  void check() const;

 private:
  struct sigaction previous_interrupt_ = {}, previous_terminate_ = {};
};

}  // namespace pitlane
