#!/usr/bin/env bash
# Renders a report.html that the descent program wrote in headless Chromium and checks the page a
# user sees: the DOM after rendering holds every chart with drawn series, and a screenshot is made.
# Exits 77 (CTest: skipped) when Chromium is not installed (bash scripts/install-deps.sh --browser).
#
#   render_report.sh DESCENT_PROGRAM WORK_DIR
set -euo pipefail
program=$1
work=$2
source "$(dirname "${BASH_SOURCE[0]}")/../../tools/chromium.sh"
browser=$(chromium_program)
if [[ -z "$browser" ]]; then
  echo "render_report: chromium is not installed; skipping" >&2
  exit 77
fi
rm -rf "$work"
mkdir -p "$work"
cd "$work"

# A small 3-class problem with validation and test data, so the report has every chart.
awk 'BEGIN { srand(3); print "x,y,label";
  for (i = 0; i < 60; i++) { c = i % 3; printf "%.3f,%.3f,%s\n", c * 2 + rand(), (c == 1) * 3 + rand(), substr("abc", c + 1, 1) } }' > data.csv
cat > run.toml <<'TOML'
[data]
train = "data.csv"
test = "data.csv"
target = "label"
validation = 0.2
[model]
hidden = [8]
[training]
epochs = 5
batch_size = 8
progress = "quiet"
TOML
"$program" train run.toml --output run > train.log

chromium_flags "$work/profile"
timeout 120 "$browser" "${flags[@]}" --dump-dom "file://$work/run/report.html" > dom.html 2> chromium.log
for id in chart-loss chart-accuracy chart-lr chart-steps chart-confusion summary; do
  if ! grep -q "id=\"$id\"" dom.html; then
    echo "render_report: the rendered page has no element #$id" >&2
    exit 1
  fi
done
paths=$(grep -o '<path class="series"' dom.html | wc -l)
if [[ "$paths" -lt 5 ]]; then
  echo "render_report: expected at least 5 drawn series in the rendered page, found $paths" >&2
  exit 1
fi
timeout 120 "$browser" "${flags[@]}" --window-size=1400,2000 --screenshot="$work/report.png" "file://$work/run/report.html" 2>> chromium.log
size=$(stat -c %s "$work/report.png" 2> /dev/null || echo 0)
if [[ "$size" -lt 20000 ]]; then
  echo "render_report: the screenshot is missing or blank ($size bytes)" >&2
  exit 1
fi
echo "render_report: report rendered in $("$browser" --version): $paths series, screenshot $work/report.png ($size bytes)"
