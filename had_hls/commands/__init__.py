"""One module per `had-hls` subcommand. Each defines ``register(subparsers)`` that adds its parser and sets
``func`` (args -> exit code). The CLI imports the modules listed in COMMANDS, in this order."""

COMMANDS = ["run", "csim", "convert", "check", "distill", "eval", "cosim", "report", "sweep"]
