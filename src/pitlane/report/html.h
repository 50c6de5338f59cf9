// The report's single HTML file: the page's style, ECharts, the page's script and its data, all
// inline, so that it opens from a file with no network. The data is JSON in a
// <script type="application/json"> element, with '<' escaped so no value can close the element.
//
//   std::string html = render_page(page_data);   // page_data: {"kind": "report", "runs": [...]}
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace pitlane::report {

std::string render_page(const nlohmann::ordered_json& page_data);

// `json` as text that is safe inside an HTML <script> element: ASCII only, every '<' as \u003c.
std::string script_safe_json(const nlohmann::ordered_json& json);

// Standard base64 (RFC 4648, with padding), for the videos' data.
std::string base64(std::string_view bytes);

}  // namespace pitlane::report
