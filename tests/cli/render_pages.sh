#!/usr/bin/env bash
# Renders the pages that `descent explain --html`, `descent descend` (the valley and the two minima)
# and `descent train` with a vanishing-gradients diagnosis write, in headless Chromium, and checks
# what a user sees: the DOM after rendering holds the drawn elements (the network's neurons and
# edges; one path per optimizer on the contour plot; the gradient-flow chart and the diagnoses
# table; with the k-means example, every point and every centroid's path), and a screenshot of each
# page is far from blank (compared with a blank page's).
# Exits 77 (CTest: skipped) when Chromium is not installed (bash scripts/install-deps.sh --browser).
#
#   render_pages.sh DESCENT_PROGRAM WORK_DIR [KMEANS_EXAMPLE]
set -euo pipefail
program=$1
work=$2
kmeans=${3:-}
source "$(dirname "${BASH_SOURCE[0]}")/../../tools/chromium.sh"
browser=$(chromium_program)
if [[ -z "$browser" ]]; then
  echo "render_pages: chromium is not installed; skipping" >&2
  exit 77
fi
rm -rf "$work"
mkdir -p "$work"
cd "$work"
work=$(pwd)

fail() {
  echo "render_pages: $*" >&2
  exit 1
}

chromium_flags "$work/profile"
window=1400,1100
dom() {  # dom PAGE OUT: the document after rendering
  timeout 120 "$browser" "${flags[@]}" --dump-dom "file://$work/$1" > "$2" 2>> chromium.log || fail "chromium could not render $1"
}
shot() {  # shot PAGE PNG
  rm -f "$2"
  timeout 120 "$browser" "${flags[@]}" --window-size=$window --screenshot="$work/$2" "file://$work/$1" >> chromium.log 2>&1 ||
    fail "chromium could not take a screenshot of $1"
  [[ -s "$2" ]] || fail "no screenshot of $1"
}
has() {  # has DOM_FILE PAGE STRING...: every string occurs in the rendered page
  local file=$1 page=$2
  shift 2
  for s in "$@"; do
    grep -qF -- "$s" "$file" || fail "the rendered $page has no $s"
  done
}
count() { grep -oF -- "$2" "$1" | wc -l; }

# A blank page's screenshot at the same window size: the yardstick for "not blank".
echo '<!DOCTYPE html><html><body></body></html>' > blank.html
shot blank.html blank.png
blank_size=$(stat -c %s blank.png)
check_shot() {  # check_shot PAGE PNG
  shot "$1" "$2"
  local size
  size=$(stat -c %s "$2")
  # A page of text and pictures compresses far worse than a single colour; the PNG is 20 KB or more
  # and at least 10 times the blank page's. Its bytes also take (almost) every value.
  local distinct
  distinct=$(od -An -v -tu1 "$2" | tr -s ' ' '\n' | grep -v '^$' | sort -un | wc -l)
  if [[ "$size" -lt 20000 || "$size" -lt $((10 * blank_size)) || "$distinct" -lt 200 ]]; then
    fail "the screenshot of $1 looks blank: $size bytes ($blank_size for a blank page), $distinct distinct byte values"
  fi
  echo "render_pages: $1: screenshot $work/$2 ($size bytes; blank page $blank_size)"
}

# 1. explain: the default 2-2-1 network drawn, with its narration.
"$program" explain --html explain.html > explain.txt
dom explain.html explain.dom
has explain.dom explain.html 'id="network"' 'id="narration"'
for n in x1 x2 h1 h2 y; do has explain.dom explain.html "id=\"neuron-$n\""; done
for e in x1-h1 x2-h1 x1-h2 x2-h2 h1-y h2-y; do has explain.dom explain.html "id=\"edge-$e\""; done
[[ $(count explain.dom 'class="neuron"') -eq 5 ]] || fail "explain.html: expected 5 neurons, found $(count explain.dom 'class="neuron"')"
[[ $(count explain.dom 'class="edge"') -eq 6 ]] || fail "explain.html: expected 6 edges, found $(count explain.dom 'class="edge"')"
check_shot explain.html explain.png

# 2. descend: the default valley and the two minima, three optimizers each.
check_descend() {  # check_descend PAGE OPTIMIZER...
  local page=$1
  shift
  dom "$page" "$page.dom"
  has "$page.dom" "$page" 'id="contour"' 'class="chart contour"' 'id="losses"' 'id="results"' 'class="bands"' 'class="level"'
  local paths rows
  paths=$(count "$page.dom" 'class="descent-path"')
  rows=$(count "$page.dom" '<tr><td>')
  [[ "$paths" -eq $# ]] || fail "$page: expected $# optimizer paths on the contour plot, found $paths"
  [[ "$rows" -eq $# ]] || fail "$page: expected $# rows in the results table, found $rows"
  for name in "$@"; do has "$page.dom" "$page" "data-name=\"$name\""; done
  check_shot "$page" "${page%.html}.png"
}
"$program" descend -o valley.html > valley.txt
check_descend valley.html "sgd lr=0.4" "momentum lr=0.1 momentum=0.9" "adam lr=0.3"
"$program" descend --surface two_minima -o two_minima.html > two_minima.txt
check_descend two_minima.html "sgd lr=0.01" "momentum lr=0.01 momentum=0.9" "adam lr=0.1"

# 3. train: 12 sigmoid layers on three Gaussian blobs; the gradients vanish on the way back.
awk 'BEGIN { srand(1); pi = 3.141592653589793; print "x,y,label";
  for (i = 0; i < 100; i++) for (c = 0; c < 3; c++) {
    u = rand(); if (u < 1e-9) u = 1e-9; r = 0.5 * sqrt(-2 * log(u)); t = 2 * pi * rand();
    printf "%.4f,%.4f,%d\n", (c == 1 ? 3 : (c == 2 ? -3 : 0)) + r * cos(t), (c == 0 ? 3 : -2) + r * sin(t), c } }' > blobs.csv
layers=$(for k in 1 2 3 4 5 6 7 8 9 10 11 12; do printf '"linear 16", "sigmoid", '; done)
cat > deep.toml <<TOML
seed = 1
[data]
train = "blobs.csv"
target = "label"
validation = 0.2
[model]
layers = [${layers}"linear"]
[optimizer]
name = "sgd"
lr = 0.1
[training]
epochs = 3
batch_size = 30
progress = "lines"
TOML
"$program" train deep.toml --output run > train.log
grep -q "diagnosis at epoch 1: vanishing gradients" train.log || fail "no vanishing-gradients diagnosis in train.log"
dom run/report.html report.dom
has report.dom report.html 'id="diagnostics"' 'id="diagnoses"' '<td>vanishing gradients</td>' 'id="chart-gradient-flow"' \
  'id="chart-update-ratio"' 'id="chart-activations"'
# One drawn series per Linear layer (13) in the gradient-flow chart.
flow=$(sed -n '/id="chart-gradient-flow"/,/<\/svg>/p' report.dom | grep -o '<path class="series"' | wc -l)
[[ "$flow" -eq 13 ]] || fail "report.html: expected 13 layers drawn in the gradient-flow chart, found $flow"
window=1400,2400
check_shot run/report.html report.png

# 4. The k-means example (when built): 2000 points coloured by cluster, 4 centroid paths.
pages="explain, descend (valley, two_minima) and a diagnosed report"
if [[ -n "$kmeans" ]]; then
  "$kmeans" --out "$work/kmeans.html" > kmeans.txt || fail "the kmeans example failed: $(cat kmeans.txt)"
  window=700,800
  dom kmeans.html kmeans.dom
  has kmeans.dom kmeans.html '<svg' 'k-means by gradient descent' 'blobs recovered'
  [[ $(count kmeans.dom '<polyline') -eq 4 ]] || fail "kmeans.html: expected 4 centroid paths, found $(count kmeans.dom '<polyline')"
  [[ $(count kmeans.dom '<circle') -ge 2000 ]] || fail "kmeans.html: expected 2000 points or more, found $(count kmeans.dom '<circle')"
  check_shot kmeans.html kmeans.png
  pages="$pages and the k-means example"
fi

echo "render_pages: $pages rendered in $("$browser" --version 2> /dev/null)"
