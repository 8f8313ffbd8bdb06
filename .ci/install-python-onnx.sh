#!/usr/bin/env bash
# Installs Debian's python3-onnx, so the ONNX export tests also run onnx.checker (tests/Interchange.Tests). Idempotent;
# without root or a reachable mirror it says so and the checker tests skip with that reason. PyTorch (python3-torch)
# is not installed here: it is hundreds of megabytes, and its peer tests skip with the reason.
set -uo pipefail
if /usr/bin/python3 -c "import onnx" 2>/dev/null; then
  echo "install-python-onnx: onnx already importable"
  exit 0
fi
if [[ "$(id -u)" != 0 ]]; then
  echo "install-python-onnx: not root; the onnx.checker tests will skip" >&2
  exit 0
fi
apt-get install -y -q --no-install-recommends python3-onnx || echo "install-python-onnx: apt-get failed; the onnx.checker tests will skip" >&2
