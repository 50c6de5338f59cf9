// Memory plan: one arena for every intermediate tensor of a plan, offsets chosen so that tensors
// whose lifetimes overlap never share bytes (greedy by size, like TFLite's arena planner).
//
//   std::vector<BufferLifetime> b = {{.bytes = 4096, .first = 0, .last = 2}, ...};
//   ArenaPlan a = plan_arena(b);   // a.offsets[i], a.total_bytes
#pragma once

#include <cstddef>
#include <span>
#include <vector>

namespace pitlane::runtime {

struct BufferLifetime {
  size_t bytes = 0;
  int first = 0;  // step that writes it
  int last = 0;   // last step that reads it (inclusive)
};

struct ArenaPlan {
  std::vector<size_t> offsets;  // per buffer, bytes from the arena's start (aligned)
  size_t total_bytes = 0;
};

inline constexpr size_t kArenaAlignment = 64;

ArenaPlan plan_arena(std::span<const BufferLifetime> buffers);

}  // namespace pitlane::runtime
