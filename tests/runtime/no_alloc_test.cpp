// Proves that Session::run() does not touch the heap after the first run: every global operator
// new and every malloc-family call of the process is counted (this executable replaces them).
//
// Reference backend: zero allocations per run. oneDNN backend: pitlane's own code allocates
// nothing either, but oneDNN 2.6's dnnl_primitive_execute() itself builds a std::unordered_map
// of the primitive's arguments on every call (about 7 small blocks per primitive, freed before
// it returns). The test pins that down: the count is the same on every run, bounded per oneDNN
// step, and everything allocated during a run is freed by its end.
#include <gtest/gtest.h>

#include "alloc_hooks.h"
#include "onnx_builder.h"
#include "test_util.h"

namespace pitlane::runtime {
namespace {

using namespace testing;

struct RunAllocations {
  std::vector<long> per_run;   // allocations during each run
  long net = 0;                // allocations minus frees over all runs
  size_t steps = 0;            // plan steps
  size_t reference_steps = 0;  // steps that run reference kernels (no oneDNN call)
};

RunAllocations allocations_during_runs(Backend backend, Padding padding, int threads, int64_t batch,
                                       int runs, bool quantized = false) {
  const Model model = Model::from_bytes(
      quantized ? qdq_conv_gemm_onnx(1) : pilotnet_onnx(padding, Exporter::torch, 13, 1), "m.onnx");
  Session s(model, {.backend = backend, .threads = threads, .batch = batch});
  const auto x = random_input(s.inputs()[0].element_count(), 1);
  std::vector<float> y(s.outputs()[0].element_count());
  s.run(x, y);  // the first run may warm up thread pools
  RunAllocations r;
  r.per_run.reserve(runs);
  r.steps = s.num_steps();
  for (size_t i = 0; i < s.num_steps(); ++i)
    r.reference_steps += s.step_name(i).ends_with("[reference]");
  const long frees_before = g_frees.load(), allocs_before = g_allocations.load();
  for (int i = 0; i < runs; ++i) {
    const long before = g_allocations.load();
    s.run(x, y);
    r.per_run.push_back(g_allocations.load() - before);
  }
  r.net = (g_allocations.load() - allocs_before) - (g_frees.load() - frees_before);
  return r;
}

TEST(NoAllocation, HooksSeeAllocations) {
  if (!kCountsAllocations) GTEST_SKIP() << "AddressSanitizer owns malloc: no counting";
  const long before = g_allocations.load();
  auto* p = new std::vector<int>(100);
  delete p;
  void* m = std::malloc(10);
  std::free(m);
  EXPECT_GE(g_allocations.load() - before, 3);
}

TEST(NoAllocation, ReferenceRunAllocatesNothing) {
  if (!kCountsAllocations) GTEST_SKIP() << "AddressSanitizer owns malloc: no counting";
  for (Padding padding : {Padding::valid, Padding::same}) {
    const RunAllocations r = allocations_during_runs(Backend::reference, padding, 1, 1, 3);
    for (long n : r.per_run) EXPECT_EQ(n, 0);
  }
}

TEST(NoAllocation, QuantizedRunsAllocateLikeFloatOnes) {
  if (!kCountsAllocations) GTEST_SKIP() << "AddressSanitizer owns malloc: no counting";
  const RunAllocations ref =
      allocations_during_runs(Backend::reference, Padding::valid, 1, 2, 3, true);
  for (long n : ref.per_run) EXPECT_EQ(n, 0);
  const RunAllocations dnn =
      allocations_during_runs(Backend::onednn, Padding::valid, 1, 2, 10, true);
  for (long n : dnn.per_run) EXPECT_EQ(n, dnn.per_run.front());
  EXPECT_LE(dnn.per_run.front(), static_cast<long>(10 * (dnn.steps - dnn.reference_steps)));
  EXPECT_EQ(dnn.net, 0);
}

TEST(NoAllocation, OnednnRunOnlyOnednnsArgumentMaps) {
  if (!kCountsAllocations) GTEST_SKIP() << "AddressSanitizer owns malloc: no counting";
  for (auto [padding, threads, batch] :
       {std::tuple{Padding::valid, 1, 1}, std::tuple{Padding::same, 1, 1},
        std::tuple{Padding::valid, 2, 4}}) {
    const RunAllocations r = allocations_during_runs(Backend::onednn, padding, threads, batch, 20);
    for (long n : r.per_run) EXPECT_EQ(n, r.per_run.front()) << "allocations vary between runs";
    EXPECT_LE(r.per_run.front(), static_cast<long>(10 * (r.steps - r.reference_steps)));
    EXPECT_EQ(r.net, 0) << "memory allocated during run() is kept";
    std::printf("onednn: %ld allocations per run inside oneDNN's execute, %zu oneDNN steps\n",
                r.per_run.front(), r.steps - r.reference_steps);
  }
}

}  // namespace
}  // namespace pitlane::runtime
