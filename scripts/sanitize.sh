#!/usr/bin/env bash
# The runtime's own kernels under AddressSanitizer and UBSan: builds their tests in build-asan/
# (the zero-skipping fp32/bf16/int8 Gemms and the sparse Gemm of src/pitlane/runtime/kernels/, the
# reference quantization kernels) and runs them; any report fails. The allocation-counting tests
# skip there (ASan owns malloc).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${PITLANE_ASAN_DIR:-$root/build-asan}"
targets=(test_runtime_zero_skip test_runtime_zero_skip_int8 test_runtime_sparse
         test_runtime_reference_quant)
cmake -S "$root" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" \
  >/dev/null
cmake --build "$dir" --target "${targets[@]}"
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1
for t in "${targets[@]}"; do
  echo "== $t (AddressSanitizer + UBSan)"
  "$dir/tests/runtime/$t" --gtest_brief=1
done
