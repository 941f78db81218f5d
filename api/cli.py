"""The ``carealloc`` command line.

Each subcommand lives in its own module under :mod:`api.commands` and registers itself with
``register(subparsers)``. Packages above ``api`` in the dependency order (``benchmarks``) add
subcommands through the entry-point group ``carealloc.commands``, each naming a
``register(subparsers)`` function, so ``api`` never imports them.

User mistakes (a missing file, invalid JSON, a snapshot breaking a rule) print a clear message
on stderr and exit with status 2; never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from importlib.metadata import entry_points

from allocator.io import InputError
from allocator.travel import TravelError
from api.errors import UserError
from geodata.errors import GeodataError

# Subcommands in the order ``carealloc --help`` lists them.
COMMAND_MODULES = (
    "validate",
    "evaluate",
    "offers",
    "allocate",
    "reoptimise",
    "serve",
    "keys",
    "route",
    "lots",
)

PLUGIN_GROUP = "carealloc.commands"

EXIT_USER_ERROR = 2


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="carealloc",
        description="Route-aware placement of home-care packages with framework providers.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"api.commands.{name}")
        module.register(subparsers)
    for plugin in sorted(entry_points(group=PLUGIN_GROUP), key=lambda ep: ep.name):
        plugin.load()(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        status: int = args.handler(args)
    except (InputError, TravelError, GeodataError, UserError) as error:
        print(f"carealloc {args.command}: error: {error}", file=sys.stderr)
        return EXIT_USER_ERROR
    except OSError as error:
        # What the system refused after the checks (a disk filling up, a folder removed
        # meanwhile, a port in use): say what and why, without a traceback.
        what = f"could not read or write {error.filename}: " if error.filename else ""
        print(f"carealloc {args.command}: error: {what}{error.strerror or error}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print(f"carealloc {args.command}: interrupted", file=sys.stderr)
        return 130
    return status


if __name__ == "__main__":
    sys.exit(main())
