"""`had-hls` entry point: one subcommand per stage; thin: parse, call the library, print a summary.

Bad input (ConfigError, UserError) -> one line on stderr, exit code 2, no traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from had_hls import __version__
from had_hls.commands import COMMANDS
from had_hls.config import ConfigError
from had_hls.errors import UserError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="had-hls",
        description="HAD transformers to verified FPGA attention accelerators (hls4ml + open-source RTL).",
    )
    parser.add_argument("--version", action="version", version=f"had-hls {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"had_hls.commands.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (ConfigError, UserError) as err:
        print(f"had-hls {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("had-hls: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
