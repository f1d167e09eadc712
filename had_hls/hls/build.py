"""Faster g++ builds of hls4ml projects (C-simulation only; the HLS sources and scripts are unchanged).

hls4ml 1.3.0's ``build_lib.sh`` (Vivado/Vitis backends) compiles the two translation units of a project one after
the other: ``firmware/<name>.cpp`` (the whole network: most of the time) and ``<name>_bridge.cpp`` (the ctypes
wrapper, ~5 s of parsing the ap_types headers). :func:`install_parallel_build` wraps
``VivadoWriter.write_build_script`` (VitisWriter inherits it) so that every ``build_lib.sh`` it writes starts the
network's compile in the background, compiles the bridge meanwhile and waits for both (a failure of either still
fails the script: ``set -e`` applies to ``wait PID``). Same compiler, same flags, same objects: only the order
changes. If hls4ml's script does not have the expected two lines, it is left as written.

The script also defines HAD_HLS_FAST_CSIM_ENABLE: this g++ build (the Python bridge behind ``predict``) may take the
integer fast paths of templates/hls (bit-exact with the ap_fixed code, tested); the project's own test bench,
compiled by Vitis ``csim_design`` from build_prj.tcl, does not define it and simulates the code that is synthesized.
"""

from __future__ import annotations

from pathlib import Path

from hls4ml.writer.vivado_writer import VivadoWriter

_MAIN = "-c firmware/${PROJECT}.cpp -o ${PROJECT}.o"
_BRIDGE = "-c ${PROJECT}_bridge.cpp -o ${PROJECT}_bridge.o"
_MARK = "_had_hls_parallel_build"
_CFLAGS = 'CFLAGS="-O3 -fPIC"'
_FAST = 'CFLAGS+=" -DHAD_HLS_FAST_CSIM_ENABLE"  # had-hls: integer C-sim fast paths in this g++ build only'


def enable_fast_csim(text: str) -> str:
    """build_lib.sh with HAD_HLS_FAST_CSIM_ENABLE after hls4ml's CFLAGS line (unchanged if it is not found)."""
    if _FAST in text or _CFLAGS not in text:
        return text
    return text.replace(_CFLAGS, _CFLAGS + "\n" + _FAST, 1)


def parallel_build_script(text: str) -> str:
    """hls4ml's build_lib.sh with the two compiles run concurrently (unchanged if its lines are not found)."""
    lines = text.splitlines(keepends=True)
    main = [i for i, line in enumerate(lines) if line.rstrip().endswith(_MAIN)]
    bridge = [i for i, line in enumerate(lines) if line.rstrip().endswith(_BRIDGE)]
    if len(main) != 1 or len(bridge) != 1 or bridge[0] != main[0] + 1:
        return text
    i, j = main[0], bridge[0]
    lines[i] = lines[i].rstrip() + " &\nHAD_HLS_MAIN_PID=$!\n"
    lines[j] = lines[j].rstrip() + "\nwait $HAD_HLS_MAIN_PID\n"
    return "".join(lines)


def install_parallel_build() -> None:
    """Make VivadoWriter (and VitisWriter) write the parallel build_lib.sh. Idempotent."""
    original = VivadoWriter.write_build_script
    if getattr(original, _MARK, False):
        return

    def write_build_script(self, model):
        original(self, model)
        path = Path(model.config.get_output_dir()) / "build_lib.sh"
        if path.is_file():
            text = path.read_text()
            new = enable_fast_csim(parallel_build_script(text))
            if new != text:
                path.write_text(new)

    setattr(write_build_script, _MARK, True)
    write_build_script.__doc__ = original.__doc__
    VivadoWriter.write_build_script = write_build_script
