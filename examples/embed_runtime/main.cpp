// Loads a driving model with pitlane's runtime, runs one frame's worth of input and prints the
// raw outputs and the latency: the whole embedding API in one page.
//
//   embed_runtime pilotnet.onnx [runs]
#include <pitlane/core/error.h>
#include <pitlane/runtime/model.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: embed_runtime MODEL.onnx [runs]\n");
    return 2;
  }
  const int runs = argc > 2 ? std::max(1, std::atoi(argv[2])) : 100;
  try {
    using namespace pitlane::runtime;
    // The model: imported and validated once (batch left symbolic).
    const Model model = Model::load(argv[1]);
    // A session: compiled for batch 1 on one thread, the closed-loop setting. All allocation
    // happens here; run() only computes.
    Session session(model, {.backend = Backend::automatic, .threads = 1, .batch = 1});
    std::vector<float> input(session.inputs()[0].element_count(), 0.5f);
    std::vector<float> output(session.outputs()[0].element_count());
    std::vector<double> us;
    for (int i = 0; i < runs; ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      session.run(input, output);
      us.push_back(
          std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(us.begin(), us.end());
    std::printf("model %s: input %s, output %s\n", argv[1], session.inputs()[0].name.c_str(),
                session.outputs()[0].name.c_str());
    for (size_t i = 0; i < output.size(); ++i) std::printf("output[%zu] = %.6f\n", i, output[i]);
    std::printf("median %.1f us over %d runs on %s\n", us[us.size() / 2], runs,
                backend_name(session.backend()));
    return 0;
  } catch (const pitlane::InputError& e) {
    std::fprintf(stderr, "embed_runtime: %s\n", e.what());
    return 2;
  }
}
