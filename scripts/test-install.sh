#!/usr/bin/env bash
# The CMake package as a user meets it: installs the build into a fresh prefix, builds
# examples/embed_runtime against it with find_package(pitlane), and runs the example on a model
# the installed CLI trains from a short recording.
# Run by ctest (install_package_example).
#
#   scripts/test-install.sh [BUILD_DIR]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$(cd "${1:-$root/build}" && pwd)"
work="$(mktemp -d /tmp/pitlane-install.XXXXXX)"
trap 'rm -rf "$work"' EXIT

cmake --install "$build" --prefix "$work/prefix" >/dev/null
cmake -S "$root/examples/embed_runtime" -B "$work/example" -G Ninja \
  -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$work/example" >/dev/null

pitlane="$work/prefix/bin/pitlane"
"$pitlane" record --circuits simple_circuit --frames 40 --out "$work/rec" >/dev/null 2>&1
"$pitlane" train --data "$work/rec" --out "$work/m.onnx" --epochs 1 --samples-per-epoch 40 \
  --val-fraction 0 --quiet >/dev/null
"$work/example/embed_runtime" "$work/m.onnx" 5 | tee "$work/example.txt"

grep -q '^output\[1\] = ' "$work/example.txt"
grep -q '^median .* us over 5 runs' "$work/example.txt"
echo "install: find_package(pitlane) example built and ran"
