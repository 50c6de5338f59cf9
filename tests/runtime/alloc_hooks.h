// Test-only: replaces the global operator new / delete and the malloc family so that a test can
// count every heap allocation of the process (g_allocations, g_frees). Include it from exactly
// one source file of a test executable (the definitions replace the C library's).
// Under AddressSanitizer (scripts/sanitize.sh), which replaces malloc itself, nothing is
// replaced: kCountsAllocations is false and the counting tests skip.
#pragma once

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <new>

#if defined(__SANITIZE_ADDRESS__)

inline constexpr bool kCountsAllocations = false;
namespace {
std::atomic<long> g_allocations{0};
std::atomic<long> g_frees{0};
}  // namespace

#else

inline constexpr bool kCountsAllocations = true;

extern "C" {
void* __libc_malloc(size_t);
void* __libc_calloc(size_t, size_t);
void* __libc_realloc(void*, size_t);
void* __libc_memalign(size_t, size_t);
void __libc_free(void*);
}

namespace {
// Test-only instrumentation: the process-wide allocation counter the hooks below feed.
std::atomic<long> g_allocations{0};
std::atomic<long> g_frees{0};
}  // namespace

extern "C" {
void* malloc(size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return __libc_malloc(n);
}
void* calloc(size_t a, size_t b) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return __libc_calloc(a, b);
}
void* realloc(void* p, size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return __libc_realloc(p, n);
}
void free(void* p) {
  if (p) g_frees.fetch_add(1, std::memory_order_relaxed);
  __libc_free(p);
}
int posix_memalign(void** out, size_t align, size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  *out = __libc_memalign(align, n);
  return *out ? 0 : ENOMEM;
}
void* aligned_alloc(size_t align, size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return __libc_memalign(align, n);
}
void* memalign(size_t align, size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return __libc_memalign(align, n);
}
}

void* operator new(size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = __libc_malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](size_t n) {
  return operator new(n);
}
void* operator new(size_t n, std::align_val_t a) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = __libc_memalign(static_cast<size_t>(a), n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](size_t n, std::align_val_t a) {
  return operator new(n, a);
}
void operator delete(void* p) noexcept {
  free(p);
}
void operator delete[](void* p) noexcept {
  free(p);
}
void operator delete(void* p, size_t) noexcept {
  free(p);
}
void operator delete[](void* p, size_t) noexcept {
  free(p);
}
void operator delete(void* p, std::align_val_t) noexcept {
  free(p);
}
void operator delete[](void* p, std::align_val_t) noexcept {
  free(p);
}
void operator delete(void* p, size_t, std::align_val_t) noexcept {
  free(p);
}
void operator delete[](void* p, size_t, std::align_val_t) noexcept {
  free(p);
}

#endif  // __SANITIZE_ADDRESS__

namespace {
// The most allocations any of `calls` calls of `run` made, after one call first (which may start
// a thread pool).
template <class Run>
long most_allocations_per_call(Run&& run, int calls = 5) {
  run();
  long most = 0;
  for (int i = 0; i < calls; ++i) {
    const long before = g_allocations.load();
    run();
    most = std::max(most, g_allocations.load() - before);
  }
  return most;
}
}  // namespace
