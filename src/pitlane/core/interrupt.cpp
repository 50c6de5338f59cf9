#include "pitlane/core/interrupt.h"

#include <csignal>

namespace pitlane {
namespace {

volatile std::sig_atomic_t g_signal = 0;  // the last SIGINT / SIGTERM received in a scope

extern "C" void record_signal(int signal) {
  g_signal = signal;
}

std::string signal_name(int signal) {
  return signal == SIGINT ? "SIGINT" : signal == SIGTERM ? "SIGTERM" : std::to_string(signal);
}

}  // namespace

Interrupted::Interrupted(int signal)
    : RunError("interrupted by " + signal_name(signal) + "; partial output removed"),
      signal_(signal) {}

InterruptScope::InterruptScope() {
  g_signal = 0;
  struct sigaction action = {};
  action.sa_handler = record_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, &previous_interrupt_);
  sigaction(SIGTERM, &action, &previous_terminate_);
}

InterruptScope::~InterruptScope() {
  sigaction(SIGINT, &previous_interrupt_, nullptr);
  sigaction(SIGTERM, &previous_terminate_, nullptr);
}

void InterruptScope::check() const {
  if (g_signal != 0) throw Interrupted(g_signal);
}

}  // namespace pitlane
