#include "pitlane/runtime/large_buffer.h"

#include <sys/mman.h>

#include <cstdlib>
#include <new>

namespace pitlane::runtime {

void LargeBuffer::Free::operator()(void* p) const {
  std::free(p);
}

LargeBuffer::LargeBuffer(size_t bytes) : size_(bytes) {
  const size_t alignment = bytes >= kHugePageBytes ? kHugePageBytes : 64;
  const size_t rounded = (bytes + alignment - 1) / alignment * alignment;
  data_.reset(std::aligned_alloc(alignment, rounded == 0 ? alignment : rounded));
  if (!data_) throw std::bad_alloc();
  // Advice only: a kernel without transparent huge pages refuses it, and the memory stays usable.
  if (alignment == kHugePageBytes) madvise(data_.get(), rounded, MADV_HUGEPAGE);
}

}  // namespace pitlane::runtime
