"""Design-space sweep: HAD vs FP cores over L, d, N and P; the counting top-N unit against N.

Each point is one single-head layer (E = d, H = 1) with seeded random weights, sigma calibrated like
``had-hls csim`` does for a project without checkpoint. Per point: Yosys synthesis of both cores, optionally the
ECP5 Fmax proxy, power from a co-simulation VCD of that point (seeded random inputs; the activity window is
``power_window`` cycles of steady-state attention from cycle L + 8, when the keys are loaded, so the file does
not grow as L^2; points with L > ``power_max_seq_len`` get no power), ``cycles_per_query`` measured in the same
co-simulation (null where it does not run), ``cycles_per_query_model`` the cores' cycle formula H * ceil(L / P)
at every point (the co-simulation checks it where it runs), and the top-N unit alone. Every face of an attention
kind (spec, RTL design, synthesis, Fmax, RTL simulation, top-N unit) goes through its op (had_hls.ops).

Parallelism goes through a standard executor: ``concurrent.futures.ProcessPoolExecutor`` on this machine's cores,
or a Dask distributed cluster (``Client(address).get_executor()``) when a cluster address is given. Every point is
cached as ``<cache>/point-<key>.json`` (key: the point, the precision, the RTL sources, the tool versions):
a rerun computes only the points that are missing.

Modules, one job each:
  grid         SweepPoint, SweepOptions, the grid, the checks before any work, the project of one point
  measure      one point in a worker: the kinds it compares (the ops), their designs and every measurement
  point_cache  the cache of finished points and its key
  executor     local worker processes or a Dask cluster, and what a stop does to them
  runner       run_sweep: cached points, the missing ones on the executor, the results
  results      sweep.json, the plots and failed points' logs, the terminal table
  prepared     synthesis folders to run elsewhere, and their results back into the cache
"""

from __future__ import annotations

from had_hls.estimate.sweep.executor import check_cluster_address
from had_hls.estimate.sweep.grid import DEFAULT_HEAD_DIMS, DEFAULT_SEQ_LENS, SweepOptions, SweepPoint, grid
from had_hls.estimate.sweep.measure import point_designs, run_point
from had_hls.estimate.sweep.prepared import import_synthesis, prepare_synthesis
from had_hls.estimate.sweep.results import POWER_METHOD, format_sweep
from had_hls.estimate.sweep.runner import run_sweep

__all__ = ["DEFAULT_HEAD_DIMS", "DEFAULT_SEQ_LENS", "POWER_METHOD", "SweepOptions", "SweepPoint",
           "check_cluster_address", "format_sweep", "grid", "import_synthesis", "point_designs", "prepare_synthesis",
           "run_point", "run_sweep"]
