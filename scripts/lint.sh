#!/usr/bin/env bash
# Style gates, run by scripts/test.sh (CI):
#   1. clang-format: every tracked C++ file matches .clang-format (the whole tree, a few seconds);
#   2. clang-tidy (.clang-tidy, warnings as errors): the C++ files changed since the commit named
#      in .ci/tidy-base (the last commit whose tree was checked in full), or since BASE when
#      given; `--all` checks every source file (slow: about 10 s a file).
# Needs a configured build folder with compile_commands.json (scripts/build.sh makes one).
#
#   scripts/lint.sh            # format check + tidy on the files changed since .ci/tidy-base
#   scripts/lint.sh HEAD~3     # tidy on the files changed in the last three commits
#   scripts/lint.sh --all      # tidy on every source file
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${PITLANE_BUILD_DIR:-$root/build}"
cd "$root"

echo "== clang-format (every tracked C++ file)"
mapfile -t all_files < <(git ls-files '*.cpp' '*.h')
if ! clang-format --dry-run --Werror "${all_files[@]}" 2>/tmp/pitlane-format.$$; then
  grep -E '^[^ ].*: (warning|error)' /tmp/pitlane-format.$$ | cut -d: -f1 | sort -u |
    sed 's/^/  not formatted: /'
  rm -f /tmp/pitlane-format.$$
  echo "lint: run clang-format -i on the files above" >&2
  exit 1
fi
rm -f /tmp/pitlane-format.$$

if [ "${1:-}" = "--all" ]; then
  mapfile -t changed < <(git ls-files 'src/*.cpp' 'apps/*.cpp')
  what="every source file"
elif ! git cat-file -e "${1:-$(cat .ci/tidy-base)}^{commit}" 2>/dev/null; then
  # A shallow clone without the base commit: check everything rather than nothing.
  mapfile -t changed < <(git ls-files 'src/*.cpp' 'apps/*.cpp')
  what="every source file (base ${1:-$(cat .ci/tidy-base)} is not in this clone)"
else
  base="${1:-$(cat .ci/tidy-base)}"
  # Changed .cpp files, and the .cpp beside each changed header (clang-tidy checks headers
  # through the files that include them; .clang-tidy's HeaderFilterRegex keeps it to ours).
  mapfile -t changed < <(git diff --name-only --diff-filter=AMR "$base" -- 'src/*' 'apps/*' |
    sed -n -e 's/\.h$/.cpp/p' -e '/\.cpp$/p' | sort -u | while read -r f; do
      [ -f "$f" ] && echo "$f"; done)
  what="${#changed[@]} source files changed since $base"
fi
# clang 14 cannot parse Debian's libtorch headers (c10::IValue is incomplete in its view): the
# files that include them are compiled and tested, not tidied.
mapfile -t changed < <(for f in "${changed[@]}"; do
  header="${f%.cpp}.h"
  if grep -q '#include <torch/' "$f" || { [ -f "$header" ] && grep -q '#include <torch/' "$header"; }; then
    echo "  skipped (libtorch headers): $f" >&2
  else
    echo "$f"
  fi
done)
echo "== clang-tidy ($what)"
[ "${#changed[@]}" -eq 0 ] && exit 0
if [ ! -f "$build/compile_commands.json" ]; then
  echo "lint: $build/compile_commands.json is missing; run scripts/build.sh first" >&2
  exit 2
fi
printf '%s\n' "${changed[@]}" |
  xargs -P "$(nproc)" -n 1 clang-tidy -p "$build" --quiet --extra-arg=-Wno-unknown-warning-option --warnings-as-errors='*' 2>/dev/null |
  tee /tmp/pitlane-tidy.$$ | grep -E 'warning:|error:' || true
if grep -qE '(warning|error):' /tmp/pitlane-tidy.$$; then
  rm -f /tmp/pitlane-tidy.$$
  echo "lint: clang-tidy reports the findings above; fix them (or NOLINT with the reason)" >&2
  exit 1
fi
rm -f /tmp/pitlane-tidy.$$
