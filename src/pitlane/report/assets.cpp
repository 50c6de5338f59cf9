#include "pitlane/report/assets.h"

#include "pitlane/core/error.h"

// NOLINTBEGIN(bugprone-macro-parentheses): `name` is a symbol's name, pasted, not an expression.
// Each file becomes a symbol NAME (its bytes) and NAME_end (one past them) in .rodata; the build
// passes the absolute paths and rebuilds this file when one of them changes (CMakeLists.txt).
#define PITLANE_INCBIN(name, file)                                                    \
  asm(".section .rodata\n.global " #name "\n.hidden " #name "\n.balign 16\n" #name    \
      ":\n.incbin \"" file "\"\n.global " #name "_end\n.hidden " #name "_end\n" #name \
      "_end:\n.byte 0\n.previous\n");                                                 \
  extern "C" const char name[];                                                       \
  extern "C" const char name##_end[];

PITLANE_INCBIN(pitlane_report_page_js, PITLANE_REPORT_JS)
PITLANE_INCBIN(pitlane_report_page_css, PITLANE_REPORT_CSS)
#ifndef PITLANE_ECHARTS_MISSING
PITLANE_INCBIN(pitlane_report_echarts_js, PITLANE_ECHARTS_JS)
#endif
// NOLINTEND(bugprone-macro-parentheses)

namespace pitlane::report {

std::string_view echarts_js() {
#ifdef PITLANE_ECHARTS_MISSING
  throw InputError(
      "this pitlane was built without ECharts (tools/report/node_modules/echarts is missing); "
      "run scripts/install-deps.sh, then cmake and the build again");
#else
  return {pitlane_report_echarts_js,
          static_cast<size_t>(pitlane_report_echarts_js_end - pitlane_report_echarts_js)};
#endif
}

std::string_view page_js() {
  return {pitlane_report_page_js,
          static_cast<size_t>(pitlane_report_page_js_end - pitlane_report_page_js)};
}

std::string_view page_css() {
  return {pitlane_report_page_css,
          static_cast<size_t>(pitlane_report_page_css_end - pitlane_report_page_css)};
}

}  // namespace pitlane::report
