"""User-facing errors: the CLI prints their one-line message and exits with code 2 (no traceback)."""


class UserError(Exception):
    """Bad input or a missing tool/file: the message is one line naming what, the value, and what is allowed."""


class MissingToolError(UserError):
    """A required external program (g++, verilator, iverilog, yosys, ...) is not installed."""
