# Headless Chromium for the scripts that render descent's pages (tests/cli/render_report.sh,
# tests/cli/render_pages.sh, tools/make_readme_images.sh), installed by
# `bash scripts/install-deps.sh --browser`. Source it, then:
#
#   browser=$(chromium_program)     # its path; empty when Chromium is not installed
#   chromium_flags PROFILE_DIR      # sets the array `flags`: headless, no network, no GPU, no
#                                   # sandbox (CI runs as root), scrollbars hidden, a fresh profile

chromium_program() {
  command -v chromium || command -v chromium-browser || true
}

chromium_flags() {
  flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking
         --disable-component-update --disable-sync --hide-scrollbars --user-data-dir="$1")
}
