// The circuits shipped in circuits/*.csv, compiled in (see cmake/embed_circuits.cmake).
#pragma once

#include <span>
#include <string_view>

namespace pitlane::track {

struct EmbeddedCircuit {
  std::string_view name;  // file stem, e.g. "simple_circuit"
  std::string_view csv;   // the file's text
};

std::span<const EmbeddedCircuit> embedded_circuits();

}  // namespace pitlane::track
