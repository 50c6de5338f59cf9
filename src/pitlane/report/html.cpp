#include "pitlane/report/html.h"

#include "pitlane/core/error.h"
#include "pitlane/report/assets.h"

namespace pitlane::report {
namespace {

// A script inlined into <script>...</script>: it must not contain the closing tag.
std::string_view inline_script(std::string_view js, const char* what) {
  for (size_t i = js.find("</"); i != std::string_view::npos; i = js.find("</", i + 2)) {
    std::string tag(js.substr(i + 2, 6));
    for (char& c : tag) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (tag == "script") throw RunError(std::string(what) + " holds '</script', cannot be inlined");
  }
  return js;
}

}  // namespace

std::string script_safe_json(const nlohmann::ordered_json& json) {
  const std::string text = json.dump(-1, ' ', /*ensure_ascii=*/true);
  std::string out;
  out.reserve(text.size() + text.size() / 64);
  for (char c : text) {
    if (c == '<') {
      out += "\\u003c";
    } else {
      out += c;
    }
  }
  return out;
}

std::string base64(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const uint32_t v = (static_cast<uint8_t>(bytes[i]) << 16) |
                       (static_cast<uint8_t>(bytes[i + 1]) << 8) |
                       static_cast<uint8_t>(bytes[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i < bytes.size()) {
    uint32_t v = static_cast<uint8_t>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) v |= static_cast<uint8_t>(bytes[i + 1]) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < bytes.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string render_page(const nlohmann::ordered_json& page_data) {
  std::string title = "pitlane report";
  if (page_data.contains("title") && page_data["title"].is_string()) {
    // Shown as text: the few characters HTML gives meaning to are escaped.
    title.clear();
    for (char c : page_data["title"].get<std::string>()) {
      switch (c) {
        case '<':
          title += "&lt;";
          break;
        case '>':
          title += "&gt;";
          break;
        case '&':
          title += "&amp;";
          break;
        case '"':
          title += "&quot;";
          break;
        default:
          title += c;
      }
    }
  }
  std::string html;
  html += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  html += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  // Nothing may be fetched: every script, style and video is in this file.
  html +=
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
      "script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data: blob:; "
      "media-src data: blob:\">\n";
  html += "<title>" + title + "</title>\n<style>\n";
  html += page_css();
  html +=
      "\n</style>\n</head>\n<body>\n<div id=\"app\"><p class=\"loading\">Loading the report"
      "&hellip;</p></div>\n";
  html += "<script type=\"application/json\" id=\"pitlane-data\">";
  html += script_safe_json(page_data);
  html += "</script>\n<script>\n";
  html += inline_script(echarts_js(), "ECharts");
  html += "\n</script>\n<script>\n";
  html += inline_script(page_js(), "report.js");
  html += "\n</script>\n</body>\n</html>\n";
  return html;
}

}  // namespace pitlane::report
