#!/usr/bin/env bash
# Regenerates the README's pictures (docs/images/*.png) from the descent program's own pages,
# rendered in headless Chromium (bash scripts/install-deps.sh --browser):
#
#   explain.png            the network that `descent explain --html` draws (the default 2-2-1 case)
#   descend_valley.png     `descent descend`: the contour plot with the paths, and the loss per step
#   descend_two_minima.png `descent descend --surface two_minima`: the same
#   gradient_flow.png      the diagnoses table and the gradient-flow chart of the report.html of a
#                          12-layer sigmoid network on examples/data/exams.csv (`descent train`), whose gradients vanish
#   kmeans.png             examples/kmeans.cpp's clusters and centroid paths (when the example is built
#                          next to the program: BUILD/examples/kmeans for BUILD/cli/descent)
#
# Each picture is one or two of the page's SVG elements (with the page's own style) put alone into
# a small page; Chromium measures that page (a script writes its size into the DOM), then takes a
# screenshot of exactly that size.
#
#   tools/make_readme_images.sh DESCENT_PROGRAM [OUTPUT_DIR]     (default OUTPUT_DIR: docs/images)
set -euo pipefail
if [[ $# -lt 1 ]]; then
  echo "usage: $0 DESCENT_PROGRAM [OUTPUT_DIR]" >&2
  exit 2
fi
program=$(realpath "$1")
root=$(cd "$(dirname "$0")/.." && pwd)
out=$(realpath -m "${2:-$root/docs/images}")
source "$root/tools/chromium.sh"
browser=$(chromium_program)
if [[ -z "$browser" ]]; then
  echo "make_readme_images: chromium is not installed (bash scripts/install-deps.sh --browser)" >&2
  exit 1
fi
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

chromium_flags "$work/profile"

svg_of() {  # svg_of PAGE ID: the <svg id="ID"> element of PAGE (it starts a line and ends at its </svg>)
  awk -v id="$2" 'index($0, "<svg id=\"" id "\"") == 1 { on = 1 } on { print } on && /<\/svg>/ { exit }' "$1"
}
style_of() {  # style_of PAGE: the page's <style> element
  awk '/<style>/ { on = 1 } on { print } /<\/style>/ { exit }' "$1"
}

# picture NAME PAGE WIDTH_CSS CONTENT_FILE: put CONTENT into a page with PAGE's style and screenshot it.
picture() {
  local name=$1 page=$2 width=$3 content=$4
  {
    echo '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
    style_of "$page"
    echo "<style>html, body { margin: 0; background: #fff; } body { padding: 10px 12px; max-width: none; width: $width; }"
    echo '.charts { display: flex; flex-wrap: nowrap; gap: 12px; align-items: flex-start; } .chart, svg.network { max-width: none; }'
    echo 'h2 { margin-top: 0; }</style></head><body>'
    cat "$content"
    echo '<script>const r = document.body.getBoundingClientRect();'
    echo 'document.body.setAttribute("data-size", Math.ceil(r.width) + "," + Math.ceil(r.height));</script>'
    echo '</body></html>'
  } > "$name.html"
  local size
  size=$(timeout 120 "$browser" "${flags[@]}" --window-size=2400,2400 --dump-dom "file://$work/$name.html" 2>> chromium.log |
         grep -o 'data-size="[0-9]*,[0-9]*"' | grep -o '[0-9]*,[0-9]*')
  if [[ -z "$size" ]]; then
    echo "make_readme_images: chromium did not lay out $name.html (see $work/chromium.log)" >&2
    exit 1
  fi
  timeout 120 "$browser" "${flags[@]}" --window-size="$size" --screenshot="$out/$name.png" "file://$work/$name.html" >> chromium.log 2>&1
  echo "make_readme_images: $out/$name.png ($size px, $(stat -c %s "$out/$name.png") bytes)"
}

# (a) explain: the default network.
"$program" explain --html explain.html > /dev/null
svg_of explain.html network > a.txt
picture explain explain.html max-content a.txt

# (b), (c) descend: the contour plot and the loss per step, side by side.
for surface in valley two_minima; do
  "$program" descend --surface "$surface" -o "$surface.html" > /dev/null
  { echo '<div class="charts">'; svg_of "$surface.html" contour; svg_of "$surface.html" losses; echo '</div>'; } > "$surface.txt"
  picture "descend_$surface" "$surface.html" max-content "$surface.txt"
done

# (d) the diagnostics of a deep sigmoid network on examples/data/exams.csv: 12 x ("linear 16",
# "sigmoid"), SGD lr 0.1, 3 epochs; the gradients vanish on the way back (the README's example).
layers=$(for k in 1 2 3 4 5 6 7 8 9 10 11 12; do printf '"linear 16", "sigmoid", '; done)
cat > deep.toml <<TOML
[data]
train = "$root/examples/data/exams.csv"
target = "result"
validation = 0.2
[model]
layers = [${layers}"linear"]
[optimizer]
name = "sgd"
lr = 0.1
[training]
epochs = 3
progress = "lines"
TOML
"$program" train deep.toml --output run > train.log
if ! grep -q "vanishing gradients" train.log; then
  echo "make_readme_images: the deep sigmoid network was not diagnosed with vanishing gradients:" >&2
  cat train.log >&2
  exit 1
fi
{
  awk '/<h2 id="diagnostics">/ { on = 1 } on { print } on && /<\/table>/ { exit }' run/report.html
  echo '<div class="charts">'
  svg_of run/report.html chart-gradient-flow
  echo '</div>'
} > d.txt
picture gradient_flow run/report.html 900px d.txt

# (e) the k-means example's picture: the points by cluster and each centroid's path.
kmeans=$(dirname "$program")/../examples/kmeans
if [[ -x "$kmeans" ]]; then
  "$kmeans" --out kmeans.html > /dev/null
  awk '/<svg/ { on = 1 } on { print } on && /<\/svg>/ { exit }' kmeans.html > e.txt
  picture kmeans kmeans.html max-content e.txt
else
  echo "make_readme_images: $kmeans is not built; kmeans.png not made" >&2
fi
