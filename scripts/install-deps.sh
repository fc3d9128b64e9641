#!/usr/bin/env bash
# Installs everything descent needs to build, test and benchmark, from Debian packages only.
# This is the one place where dependencies are named and pinned (Debian 12 "bookworm" versions).
# Idempotent: packages already installed are left alone, and apt is not touched when nothing is missing.
#
#   bash scripts/install-deps.sh            # build + test dependencies
#   bash scripts/install-deps.sh --torch    # also python3-torch (fixture generator, PyTorch benchmarks)
#   bash scripts/install-deps.sh --browser  # also chromium (the report's rendering test)
set -euo pipefail

# name=version, as in bookworm (apt-cache policy NAME). A pinned version that the archive no longer
# carries (a point release replaced it) falls back to the archive's version, with a warning.
PACKAGES=(
  g++=4:12.2.0-3
  cmake=3.25.1-1
  make=4.3-4.1
  pkg-config=1.8.1-1
  libopenblas-dev=0.3.21+ds-4
  # OpenBLAS's OpenMP build, which descent links when present: one thread pool instead of two.
  libopenblas-openmp-dev=0.3.21+ds-4
  libfmt-dev=9.1.0+ds1-2
  nlohmann-json3-dev=3.11.2-2
  zlib1g-dev=1:1.2.13.dfsg-1
  libgtest-dev=1.12.1-0.2
  libgmock-dev=1.12.1-0.2
  libbenchmark-dev=1.7.1-1
  libcli11-dev=2.1.2+ds-1
  libtomlplusplus-dev=3.3.0+ds-1
  dataset-fashion-mnist=0.0~git20200523.55506a9-1
  libdnnl-dev=2.6.3-1
)
# The test that renders report.html in a real browser (headless).
BROWSER_PACKAGES=(
  chromium=156.0.8078.79-1~deb12u1
)
TORCH_PACKAGES=(
  python3-torch=1.13.1+dfsg-4
)

want=("${PACKAGES[@]}")
for arg in "$@"; do
  case "$arg" in
    --torch) want+=("${TORCH_PACKAGES[@]}") ;;
    --browser) want+=("${BROWSER_PACKAGES[@]}") ;;
    --onednn) ;;  # oneDNN is a build dependency now (conv2d runs on it); kept for old instructions
    *) echo "install-deps: unknown option $arg (known: --torch, --browser)" >&2; exit 2 ;;
  esac
done

missing=()
for spec in "${want[@]}"; do
  name=${spec%%=*}
  if ! dpkg-query -W -f='${Status}' "$name" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$spec")
  fi
done
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps: all ${#want[@]} packages already installed"
  exit 0
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -q
install=()
for spec in "${missing[@]}"; do
  name=${spec%%=*}
  version=${spec#*=}
  if apt-cache madison "$name" | awk -F'|' '{gsub(/ /, "", $2); print $2}' | grep -qxF "$version"; then
    install+=("$spec")
  else
    echo "install-deps: warning: $name $version is no longer in the archive; installing its current version" >&2
    install+=("$name")
  fi
done
$SUDO apt-get install -y -q --no-install-recommends "${install[@]}"
