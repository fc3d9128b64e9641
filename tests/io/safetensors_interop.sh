#!/bin/sh
# The safetensors round trip between descent and PyTorch (CTest: interop.safetensors_torch).
# descent writes a model, its output and a file of every dtype; PyTorch loads them, rebuilds the
# model and compares; PyTorch writes its own files; descent reads them and compares.
# Usage: safetensors_interop.sh TOOL PYTHON SCRIPT WORK_DIR. Exit 77 (skipped) without torch.
set -eu
tool=$1 python=$2 script=$3 work=$4

if ! "$python" -c "import torch" >/dev/null 2>&1; then
  echo "SKIP: $python cannot import torch"
  exit 77
fi
rm -rf "$work"
mkdir -p "$work"
"$tool" write "$work"
"$python" "$script" check "$work"
"$python" "$script" write "$work"
"$tool" read "$work"
