"""One module per ``carealloc`` subcommand, each with ``register(subparsers)``."""
