"""`had-hls` entry point: one subcommand per stage; thin: parse, call the library, print a summary.

Exit codes and what goes to stderr (always exactly one line, never a traceback for these):

- 2: bad input (ConfigError, UserError, a bad flag): the key or flag, the value, and what is allowed;
- 1: a tool failed (:class:`had_hls.procs.ToolError`: the tool, its exit status or signal, the log under --out),
  or a check failed (C-sim or RTL differs: the summary says so on stdout);
- 130 / 143 / 129: stopped by SIGINT / SIGTERM / SIGHUP. Run as the ``had-hls`` program (``main()`` without
  arguments) the signal kills every child process (compilers, simulators, Yosys, pool workers) at once, the
  temporary folders are removed, and nothing half-written is left (had_hls.procs, had_hls.io).
"""

from __future__ import annotations

import argparse
import sys

from had_hls import __version__
from had_hls.commands import COMMANDS
from had_hls.config import ConfigError
from had_hls.errors import UserError


class OneLineParser(argparse.ArgumentParser):
    """argparse with its usage errors in one line (exit 2), as every other bad input."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="had-hls",
        description="HAD transformers to verified FPGA attention accelerators (hls4ml + open-source RTL).",
    )
    parser.add_argument("--version", action="version", version=f"had-hls {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=OneLineParser)
    for command in COMMANDS:
        command.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns its exit code. Without ``argv`` (the ``had-hls`` program) SIGINT, SIGTERM and SIGHUP
    also end every child process (had_hls.procs.stop_on_signals)."""
    if argv is None:
        return _program(sys.argv[1:])
    return _run(argv)


def _run(argv: list[str]) -> int:
    from had_hls.procs import Stopped, ToolError

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (ConfigError, UserError) as err:
        print(f"had-hls {args.command}: error: {_one_line(err)}", file=sys.stderr)
        return 2
    except ToolError as err:
        print(f"had-hls {args.command}: error: {_one_line(err)}", file=sys.stderr)
        return 1
    except Stopped as stop:
        print(f"had-hls {args.command}: stopped by {stop.name}", file=sys.stderr)
        return stop.exit_code
    except KeyboardInterrupt:
        print(f"had-hls {args.command}: interrupted", file=sys.stderr)
        return 130


def _one_line(err: BaseException) -> str:
    return " ".join(str(err).split())


def _program(argv: list[str]) -> int:
    from had_hls.procs import Stopped, exit_now, stop_on_signals

    try:
        with stop_on_signals():
            code = _run(argv)
    except Stopped as stop:  # a signal outside a command's run (while parsing, or while cleaning up)
        print(f"had-hls: stopped by {stop.name}", file=sys.stderr)
        code = stop.exit_code
    if code >= 128:  # stopped: children are killed and temporary folders removed; threads may still be unwinding
        exit_now(code)
    return code


if __name__ == "__main__":
    sys.exit(main())
