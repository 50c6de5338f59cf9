#include "pitlane/report/html.h"

#include <gtest/gtest.h>

#include "pitlane/report/assets.h"

namespace pitlane::report {
namespace {

using Json = nlohmann::ordered_json;

TEST(ReportHtml, Base64MatchesRfc4648) {
  EXPECT_EQ(base64(""), "");
  EXPECT_EQ(base64("f"), "Zg==");
  EXPECT_EQ(base64("fo"), "Zm8=");
  EXPECT_EQ(base64("foo"), "Zm9v");
  EXPECT_EQ(base64("foob"), "Zm9vYg==");
  EXPECT_EQ(base64("fooba"), "Zm9vYmE=");
  EXPECT_EQ(base64("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64(std::string("\xff\x00\x80", 3)), "/wCA");
}

TEST(ReportHtml, DataCannotCloseItsScriptElement) {
  // A name from a config file could hold anything, a closing tag included.
  const Json data = {{"study", "</script><script>alert(1)</script>"}, {"accent", "caf\u00e9"}};
  const std::string text = script_safe_json(data);
  EXPECT_EQ(text.find('<'), std::string::npos);
  EXPECT_EQ(Json::parse(text), data);  // the same data once parsed
  for (char c : text) EXPECT_LT(static_cast<unsigned char>(c), 0x80);
}

TEST(ReportHtml, PageInlinesEverythingAndFetchesNothing) {
  const std::string html =
      render_page({{"kind", "report"}, {"title", "study <a & b>"}, {"runs", Json::array()}});
  EXPECT_NE(html.find("<title>study &lt;a &amp; b&gt;</title>"), std::string::npos);
  EXPECT_NE(html.find(std::string(echarts_js().substr(0, 200))), std::string::npos);
  EXPECT_NE(html.find(std::string(page_js().substr(0, 200))), std::string::npos);
  EXPECT_NE(html.find("default-src 'none'"), std::string::npos);
  // No external resource: no src= or href= to another place, no @import, no url(http...).
  EXPECT_EQ(html.find("src=\"http"), std::string::npos);
  EXPECT_EQ(html.find("href=\"http"), std::string::npos);
  EXPECT_EQ(html.find("@import"), std::string::npos);
  EXPECT_GT(echarts_js().size(), 500'000u);  // the real library, not a stand-in
}

}  // namespace
}  // namespace pitlane::report
