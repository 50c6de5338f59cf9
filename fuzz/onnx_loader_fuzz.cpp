// libFuzzer target for the ONNX loader: arbitrary bytes through import, shape inference,
// constant folding, the passes and reference plan creation. Any outcome but success or a
// pitlane::InputError / RunError (a crash, a hang, another exception, a sanitizer report) is a bug.
//
//   build/fuzz/onnx_loader_fuzz -max_total_time=25 build/fuzz/corpus   (ctest: runtime_fuzz_smoke)
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "pitlane/core/error.h"
#include "pitlane/onnx/import.h"
#include "pitlane/runtime/backends/backend.h"
#include "pitlane/runtime/passes/passes.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace pitlane::runtime;
  try {
    const Graph g = pitlane::onnx::import_model(
        std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.onnx");
    Graph c = instantiate(g, 1);
    optimize(c);
    auto plan = make_reference_plan(c, {});
    (void)plan;
  } catch (const pitlane::InputError&) {
  } catch (const pitlane::RunError&) {
  }
  return 0;
}
