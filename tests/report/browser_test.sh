#!/usr/bin/env bash
# The HTML report in a real browser (ctest report_browser): a small study (micro.yaml) is run and
# writes its page (report.html) and `pitlane compare` compares it with a second run that
# differs in its drives' timing; the hand-made fixture run of test_report (the newest results
# schema: verdicts and stored trajectories) is written too. tools/report/check_report.js then
# opens every page in Debian's Chromium (headless, playwright-core): no console error, no network
# request, every chart drawn, every video playable (readyState >= 2, duration > 0). Screenshots
# stay in BUILD/report-test/ (a CI artifact; their paths are printed).
#
#   tests/report/browser_test.sh SOURCE_DIR BUILD_DIR PITLANE TEST_REPORT
#
# A missing Chromium, Node.js or npm package fails the test: it never skips.
set -euo pipefail
root="$1"; build="$2"; pitlane="$3"; test_report="$4"
out="$build/report-test"
chromium="${PITLANE_CHROMIUM:-/usr/bin/chromium}"

fail() { echo "report_browser: $*" >&2; exit 1; }
command -v node >/dev/null || fail "node not found: run scripts/install-deps.sh"
[ -x "$chromium" ] || fail "$chromium not found: run scripts/install-deps.sh (Debian package chromium)"
for m in playwright-core echarts; do
  [ -d "$root/tools/report/node_modules/$m" ] ||
    fail "tools/report/node_modules/$m is missing: run scripts/install-deps.sh"
done

rm -rf "$out"
mkdir -p "$out"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# The study (which writes its report), and a second run of it with slower drives (only the drive stage reruns).
"$pitlane" study "$root/tests/report/micro.yaml" --runs-dir "$work" --quiet > "$work/study.log" ||
  { cat "$work/study.log"; fail "the micro study failed"; }
# The page pitlane study wrote at its end (its defaults: four lap videos).
[ -f "$work/micro/report.html" ] || fail "pitlane study wrote no $work/micro/report.html"
cp "$work/micro/report.html" "$out/report.html"
cp -r "$work/micro" "$work/micro-slow"
rm -f "$work/micro-slow/report.html"
"$pitlane" study "$root/tests/report/micro.yaml" --runs-dir "$work" --name micro-slow \
  --timing fixed:60 --quiet --no-report > "$work/study-slow.log" ||
  { cat "$work/study-slow.log"; fail "the second micro study failed"; }
"$pitlane" compare "$work/micro" "$work/micro-slow" --out "$out/compare.html" --videos 1 --quiet

# The fixture run of the newest schema (test_report writes its pages where this points).
PITLANE_REPORT_PAGES="$out" "$test_report" --gtest_filter='ReportPage.*' > "$work/fixture.log" ||
  { cat "$work/fixture.log"; fail "test_report's fixture pages failed"; }
[ -f "$out/fixture-report.html" ] || fail "test_report wrote no fixture-report.html"

cd "$root/tools/report"
node check_report.js --out "$out" --chromium "$chromium" --min-charts 6 --min-videos 3 \
  "$out/report.html"
node check_report.js --out "$out" --chromium "$chromium" --min-charts 8 --min-videos 2 \
  "$out/compare.html"
node check_report.js --out "$out" --chromium "$chromium" --min-charts 4 \
  "$out/fixture-report.html" "$out/fixture-compare.html"
