// Plain-text tables for terminal reports: columns sized to their contents, numbers right-aligned.
//
//   Table t({"metric", "value"});
//   t.add({"laps", "1"});
//   std::cout << t.render();
#pragma once

#include <string>
#include <vector>

namespace pitlane {

class Table {
 public:
  explicit Table(std::vector<std::string> header) : header_(std::move(header)) {}
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  std::string render() const;
  // The same table as GitHub-flavoured Markdown.
  std::string render_markdown() const;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

// Fixed-point formatting for table cells: format_fixed(3.14159, 2) == "3.14".
std::string format_fixed(double value, int decimals);

}  // namespace pitlane
