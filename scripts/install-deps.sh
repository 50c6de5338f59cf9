#!/usr/bin/env bash
# Installs every Debian and npm package pitlane uses. Idempotent: packages already present are
# skipped, so a second run costs a few seconds.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

debian_packages=(
  build-essential cmake ninja-build pkg-config git ca-certificates
  clang-format clang-tidy
  clang libclang-rt-14-dev # libFuzzer + ASan for the ONNX loader fuzz smoke
  libopencv-dev            # images, video, the expert's image processing
  libavformat-dev libavcodec-dev libavutil-dev  # lap videos: H.264 / VP8 with fixed settings
  nlohmann-json3-dev       # results files
  libyaml-cpp-dev          # study configs
  libcli11-dev             # command line
  libspdlog-dev            # logging
  zlib1g-dev               # gzipped model sizes
  libpng-dev               # frames decoded with errors reported, not printed
  libgtest-dev libgmock-dev
  libbenchmark-dev
  libdnnl-dev              # runtime CPU kernels
  libonnx-dev libprotobuf-dev protobuf-compiler   # ONNX files
  libtorch-dev             # training only
  libopenblas0-pthread     # libtorch's dense layers call libblas.so.3; the reference BLAS is far slower
  chromium                 # the HTML report's browser test (tests/report), driven headless
  slurm-wlm munge          # the sharded study on a single-node Slurm (scripts/test-slurm.sh)
)
# ONNX Runtime (npm onnxruntime-node) is the interop oracle and peer, ECharts and playwright-core
# make and test the HTML report; keep a Node.js that is already there (its npm may come with it
# rather than as Debian's package).
command -v npm >/dev/null 2>&1 || debian_packages+=(nodejs npm)

missing=()
for p in "${debian_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# onnxruntime-node ships its native binary inside the npm package; --ignore-scripts skips the
# post-install step that would try to download CUDA builds from outside the registry.
if [ -f "$root/tools/interop/package.json" ] && [ ! -d "$root/tools/interop/node_modules/onnxruntime-node" ]; then
  (cd "$root/tools/interop" && npm install --ignore-scripts --no-audit --no-fund --loglevel=error)
fi
# tools/report: Apache ECharts (embedded into every HTML report at build time) and playwright-core
# (drives Debian's Chromium in the report's browser test). --ignore-scripts: no browser is
# downloaded; the test uses /usr/bin/chromium.
if [ ! -d "$root/tools/report/node_modules/echarts" ] || [ ! -d "$root/tools/report/node_modules/playwright-core" ]; then
  (cd "$root/tools/report" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
fi
