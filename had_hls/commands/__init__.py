"""One module per `had-hls` subcommand. Each defines ``register(subparsers)`` that adds its parser and sets
``func`` (args -> exit code). :data:`COMMANDS` lists them, in the order of ``had-hls --help``; the CLI registers
exactly these (no import for side effects). Every command loads its project with had_hls.project.load_project."""

from had_hls.commands import check, convert, cosim, csim, distill, report, run, sweep
from had_hls.commands import eval as eval_

COMMANDS = (run, csim, convert, check, distill, eval_, cosim, report, sweep)
