"""User-facing errors: the CLI prints their one-line message and exits with code 2 (no traceback)."""


class UserError(Exception):
    """Bad input or a missing tool/file: the message is one line naming what, the value, and what is allowed."""


class MissingToolError(UserError):
    """A required external program (g++, verilator, iverilog, yosys, ...) is not installed."""


class MissingPrerequisite(UserError):
    """A stage's input that an earlier stage writes is not there: the message names the file and the command to
    run first (exit 2). Stages never start each other; see had_hls.stages."""
