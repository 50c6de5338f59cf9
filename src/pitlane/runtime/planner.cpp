#include "pitlane/runtime/planner.h"

#include <algorithm>
#include <numeric>

namespace pitlane::runtime {

ArenaPlan plan_arena(std::span<const BufferLifetime> buffers) {
  ArenaPlan plan;
  plan.offsets.assign(buffers.size(), 0);
  std::vector<size_t> order(buffers.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return buffers[a].bytes > buffers[b].bytes; });
  auto align = [](size_t x) {
    return (x + kArenaAlignment - 1) / kArenaAlignment * kArenaAlignment;
  };
  std::vector<size_t> placed;
  for (size_t i : order) {
    const BufferLifetime& b = buffers[i];
    // Conflicting placed buffers, by offset; take the first gap that fits.
    std::vector<size_t> conflicts;
    for (size_t j : placed)
      if (buffers[j].first <= b.last && b.first <= buffers[j].last) conflicts.push_back(j);
    std::sort(conflicts.begin(), conflicts.end(),
              [&](size_t x, size_t y) { return plan.offsets[x] < plan.offsets[y]; });
    size_t offset = 0;
    for (size_t j : conflicts) {
      if (offset + align(b.bytes) <= plan.offsets[j]) break;
      offset = std::max(offset, align(plan.offsets[j] + buffers[j].bytes));
    }
    plan.offsets[i] = offset;
    plan.total_bytes = std::max(plan.total_bytes, align(offset + b.bytes));
    placed.push_back(i);
  }
  return plan;
}

}  // namespace pitlane::runtime
