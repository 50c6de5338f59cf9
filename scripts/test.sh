#!/usr/bin/env bash
# Installs what is missing, builds, checks format and clang-tidy (scripts/lint.sh), runs every test
# (unit, integration, interop, fuzz smoke), then the runtime's own kernels under AddressSanitizer
# and UBSan (scripts/sanitize.sh).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh"
"$root/scripts/lint.sh"
ctest --test-dir "${PITLANE_BUILD_DIR:-$root/build}" --output-on-failure --timeout 1200 -j "$(nproc)"
"$root/scripts/sanitize.sh"
