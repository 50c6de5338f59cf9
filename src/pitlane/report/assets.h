// The files the HTML report inlines, embedded into the binary at build time: ECharts' minified
// build (tools/report/node_modules/echarts/dist/echarts.min.js) and the page's own script and
// style (src/pitlane/report/page/).
#pragma once

#include <string_view>

namespace pitlane::report {

// ECharts' minified JavaScript. InputError naming the fix when the build found no ECharts
// (tools/report's npm packages were not installed when cmake ran).
std::string_view echarts_js();
std::string_view page_js();
std::string_view page_css();

}  // namespace pitlane::report
