"""The files and the C-simulation build of the hls4ml projects that hold had-hls layers, and only of those.

hls4ml writes every Vivado/Vitis project with ``VivadoWriter`` (VitisWriter inherits it) and compiles it with the
backend's ``compile`` (``./build_lib.sh``). :func:`install_project_build` wraps three of those methods; each wrapper
first asks :func:`is_had_model` (does the ModelGraph hold a layer class that had-hls registered?) and for any other
model calls hls4ml's own method unchanged. For a had-hls model:

``write_nnet_utils``
    hls4ml's copy, then our headers (``templates/hls/nnet_*.h``, :func:`add_sources`) into
    ``firmware/nnet_utils/``. (hls4ml's ``Backend.register_source`` would put them into every project.)
``write_build_script``
    hls4ml's ``build_lib.sh``, rewritten by :func:`parallel_build_script`: the network
    (``firmware/<name>.cpp``, most of the time) and the ctypes bridge (``<name>_bridge.cpp``, ~5 s of parsing the
    ap_types headers) compile at the same time, same compiler and flags. Any failure, or SIGINT/SIGTERM/SIGHUP,
    kills the other compile (the compiler driver with its cc1plus) and ends the script with a non-zero status;
    the failed step is written to ``build_status.txt`` as ``<compiler> <step> <status>``. The script also
    defines HAD_HLS_FAST_CSIM_ENABLE (:func:`enable_fast_csim`): this g++ build (the Python bridge behind
    ``predict``) may take the integer fast paths of templates/hls (bit-exact with the ap_fixed code, tested); the
    project's own test bench, compiled by Vitis ``csim_design`` from build_prj.tcl, does not define it and
    simulates the code that is synthesized.
``compile``
    runs that script through :func:`had_hls.procs.run_tool` (output in ``build_lib.log`` beside it; on any
    exception, Ctrl-C included, the script and its compilers are killed) and raises
    :class:`had_hls.procs.ToolError` naming the compiler, the step, the exit status or the signal, and the log.
    Then hls4ml loads the library as usual (``ModelGraph.compile``/``predict`` are hls4ml's).
"""

from __future__ import annotations

import threading
from pathlib import Path

from hls4ml.writer.vivado_writer import VivadoWriter

_MAIN = "-c firmware/${PROJECT}.cpp -o ${PROJECT}.o"
_BRIDGE = "-c ${PROJECT}_bridge.cpp -o ${PROJECT}_bridge.o"
_LINK = "-shared ${PROJECT}.o ${PROJECT}_bridge.o -o firmware/${PROJECT}-${LIB_STAMP}.so"
_MARK = "_had_hls_wrapper"
_CFLAGS = 'CFLAGS="-O3 -fPIC"'
_FAST = 'CFLAGS+=" -DHAD_HLS_FAST_CSIM_ENABLE"  # had-hls: integer C-sim fast paths in this g++ build only'


def enable_fast_csim(text: str) -> str:
    """build_lib.sh with HAD_HLS_FAST_CSIM_ENABLE after hls4ml's CFLAGS line (unchanged if it is not found)."""
    if _FAST in text or _CFLAGS not in text:
        return text
    return text.replace(_CFLAGS, _CFLAGS + "\n" + _FAST, 1)


STATUS_FILE = "build_status.txt"
LOG_FILE = "build_lib.log"

_lock = threading.Lock()
_layer_classes: set[str] = set()
_sources: dict[str, Path] = {}

_PROLOGUE = """\
# had-hls: the network and the bridge compile at the same time. A failure of either, or SIGINT/SIGTERM/SIGHUP,
# kills the other compile (with the compiler's own children) and ends this script with a non-zero status; the
# failed step goes to build_status.txt as "<compiler> <step> <status>" (status > 128: killed by signal status-128).
rm -f build_status.txt
had_hls_pids=""
had_hls_kill_tree() {
  local pid=$1 child
  for child in $(cat /proc/"$pid"/task/*/children 2>/dev/null); do had_hls_kill_tree "$child"; done
  kill -KILL "$pid" 2>/dev/null || true
}
had_hls_stop() {
  local pid
  for pid in $had_hls_pids; do had_hls_kill_tree "$pid"; done
  had_hls_pids=""
  wait 2>/dev/null || true
}
had_hls_fail() {
  echo "$1 $2 $3" > build_status.txt
  echo "had-hls build: $1 ($2) failed with status $3" >&2
  had_hls_stop
  exit "$3"
}
trap 'had_hls_stop; exit 130' INT
trap 'had_hls_stop; exit 143' TERM
trap 'had_hls_stop; exit 129' HUP
"""


def parallel_build_script(text: str) -> str:
    """hls4ml's build_lib.sh with the two compiles run concurrently and stopped cleanly (module docstring);
    unchanged if its three compile lines are not found as expected."""
    lines = text.splitlines(keepends=True)

    def find(tail: str) -> list[int]:
        return [i for i, line in enumerate(lines) if line.rstrip().endswith(tail)]

    main, bridge, link = find(_MAIN), find(_BRIDGE), find(_LINK)
    if len(main) != 1 or len(bridge) != 1 or len(link) != 1 or not main[0] + 1 == bridge[0] == link[0] - 1:
        return text
    i, j, k = main[0], bridge[0], link[0]
    compile_main, compile_bridge, do_link = (lines[n].rstrip() for n in (i, j, k))
    block = (
        _PROLOGUE
        + f"{compile_main} &\nhad_hls_main=$!\n"
        + f"{compile_bridge} &\nhad_hls_bridge=$!\n"
        + 'had_hls_pids="$had_hls_main $had_hls_bridge"\n'
        + 'wait "$had_hls_bridge" || had_hls_fail "${CC}" "${PROJECT}_bridge.cpp" "$?"\n'
        + 'wait "$had_hls_main" || had_hls_fail "${CC}" "firmware/${PROJECT}.cpp" "$?"\n'
        + 'had_hls_pids=""\n'
        + f'{do_link} || had_hls_fail "${{CC}}" "link" "$?"\n'
    )
    return "".join(lines[:i]) + block + "".join(lines[k + 1 :])


# ------------------------------------------------------------------------------------------------ registry
def add_layer_classes(names: list[str] | tuple[str, ...]) -> None:
    """IR layer class names (``Layer.class_name``) that make a ModelGraph a had-hls model."""
    with _lock:
        _layer_classes.update(names)


def add_sources(paths: list[Path] | tuple[Path, ...]) -> None:
    """Headers copied into ``firmware/nnet_utils/`` of had-hls models (and of no other model)."""
    with _lock:
        for p in paths:
            _sources[Path(p).name] = Path(p)


def is_had_model(model) -> bool:
    """True when the hls4ml ModelGraph holds a layer of a class had-hls registered."""
    try:
        layers = model.get_layers()
    except Exception:  # noqa: BLE001 - a MultiModelGraph or a model still being built
        return False
    return any(getattr(layer, "class_name", None) in _layer_classes for layer in layers)


# ------------------------------------------------------------------------------------------------ wrappers
def install_project_build() -> None:
    """Wrap VivadoWriter.write_nnet_utils / write_build_script and VivadoBackend.compile (module docstring).
    Idempotent; other models are written and compiled by hls4ml's own methods."""
    from hls4ml.backends.vivado.vivado_backend import VivadoBackend

    with _lock:
        if getattr(VivadoWriter.write_build_script, _MARK, False):
            return
        _wrap(VivadoWriter, "write_nnet_utils", _write_sources)
        _wrap(VivadoWriter, "write_build_script", _write_build_script)
        _wrap(VivadoBackend, "compile", _compile)


def _wrap(cls: type, name: str, ours) -> None:
    original = getattr(cls, name)

    def method(self, model, *args, **kwargs):
        if is_had_model(model):
            return ours(original, self, model, *args, **kwargs)
        return original(self, model, *args, **kwargs)

    method.__doc__ = original.__doc__
    method.__name__ = name
    setattr(method, _MARK, True)
    method._had_hls_original = original  # type: ignore[attr-defined]
    setattr(cls, name, method)


def _write_sources(original, writer, model) -> None:
    import shutil

    original(writer, model)
    dst = Path(model.config.get_output_dir()) / "firmware" / "nnet_utils"
    dst.mkdir(parents=True, exist_ok=True)
    for name, src in sorted(_sources.items()):
        shutil.copyfile(src, dst / name)


def _write_build_script(original, writer, model) -> None:
    original(writer, model)
    path = Path(model.config.get_output_dir()) / "build_lib.sh"
    if path.is_file():
        text = path.read_text()
        new = enable_fast_csim(parallel_build_script(text))
        if new != text:
            path.write_text(new)


def _compile(original, backend, model) -> str:
    from had_hls.procs import ToolError, run_tool

    prj = Path(model.config.get_output_dir())
    (prj / STATUS_FILE).unlink(missing_ok=True)
    log = prj / LOG_FILE
    log.unlink(missing_ok=True)
    try:
        run_tool(["./build_lib.sh"], prj, log, tool="build_lib.sh", detail_from_log=False)
    except ToolError as err:
        raise build_error(prj, err) from None
    lib = prj / "firmware" / f"{model.config.get_project_name()}-{model.config.get_config_value('Stamp')}.so"
    if not lib.is_file():
        raise ToolError("build_lib.sh", 0, log, f"no library {lib.name} was built")
    return str(lib)


def build_error(prj: Path, err) -> Exception:
    """The ToolError of a failed build_lib.sh, naming the compiler step from build_status.txt when there is one."""
    from had_hls.procs import ToolError, first_error_line

    status = prj / STATUS_FILE
    try:
        compiler, step, code = status.read_text().split()
        rc = int(code)
    except (OSError, ValueError):
        return err
    # bash reports a child killed by signal n as 128 + n
    rc = -(rc - 128) if rc > 128 else rc
    detail = first_error_line(err.log) if rc > 0 and err.log is not None else ""
    return ToolError(f"{Path(compiler).name} ({step})", rc, err.log, detail)
