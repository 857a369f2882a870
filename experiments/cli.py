"""The `affect` command line: one sub-command group per module in `experiments/commands/`.

Each command module defines ``register(subparsers)`` and sets ``func`` on its parsers; handlers import heavy
libraries (torch, cv2, mlflow) inside, so ``affect --help`` stays fast. User-facing errors
(:class:`core.errors.AffectError`) print as one line and exit non-zero; ``--debug`` shows tracebacks.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from core import process
from core.errors import AffectError

COMMAND_MODULES = (
    "experiments.commands.synth",
    "experiments.commands.data",
    "experiments.commands.preprocess",
    "experiments.commands.train",
    "experiments.commands.tune",
    "experiments.commands.listing",
    "experiments.commands.report",
    "experiments.commands.bench",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="affect",
        description="Reference experiment suite for affective-computing papers: stand-in data, preprocessing, "
        "training under leakage-free protocols, MLflow tracking and a comparison report.",
    )
    parser.add_argument("--debug", action="store_true", help="show full tracebacks for errors")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


QUIET_LIBRARIES = ("lightning", "mlflow", "sentence_transformers", "alembic", "urllib3")


def quiet_libraries(record: logging.LogRecord) -> bool:
    """Handler filter: the libraries' records below WARNING are dropped (Lightning's per-fold "GPU available" banners
    and tips, MLflow's store migrations). A filter, not a logger level, because importing lightning (lazily, after
    this runs) sets its loggers back to INFO."""
    return record.levelno >= logging.WARNING or not record.name.startswith(QUIET_LIBRARIES)


def main(argv: list[str] | None = None) -> int:
    process.configure()  # before anything imports torch
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, format="%(levelname)s %(name)s: %(message)s"
    )
    if not args.verbose:  # per-fold banners ("GPU available: False ...", "Tip: ...") drown the results
        for handler in logging.getLogger().handlers:
            handler.addFilter(quiet_libraries)
    if not getattr(args, "func", None):
        parser.print_help()
        return 1
    try:
        result = args.func(args)
    except AffectError as err:
        if args.debug:
            raise
        print(f"error: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("interrupted: finished outputs are kept; run the same command again to resume", file=sys.stderr)
        return 130
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
