"""Process setup, applied explicitly by entry points (the `affect` CLI, the benchmarks, the test session).

:func:`configure` sets ``OMP_WAIT_POLICY=PASSIVE`` unless the environment already sets it. It only takes effect
when torch has not been imported yet, so an entry point calls it first. OpenMP's default lets idle worker threads
spin; on a small shared machine (2 cores, another process busy) a 2-thread torch step then runs about 5x slower
than with passive waiting, while on an idle machine passive waiting costs under 10% (measured for STSTNet,
2 threads: 9.6 vs 8.9 ms per step idle, 38 vs 182 ms with a second process training beside it). Child processes
(DVC stages, spawned workers) inherit the variable.
"""

from __future__ import annotations

import logging
import os

THREAD_POLICY = {"OMP_WAIT_POLICY": "PASSIVE"}


def configure() -> None:
    """Apply the thread policy to this process (and its children) unless the environment chose otherwise."""
    for key, value in THREAD_POLICY.items():
        os.environ.setdefault(key, value)


def route_library_logs() -> None:
    """Send Lightning's log records through the root logger's handlers (and their filters) only.

    Importing lightning adds a console handler of its own to the ``lightning`` logger (and, when the root logger
    has none yet, to ``lightning.pytorch`` / ``lightning.fabric``), which prints every per-fold banner ("GPU
    available", tips) past the CLI's filters. Call it after lightning is imported (the runner does, per run)."""
    for name in ("lightning", "lightning.pytorch", "lightning.fabric"):
        logger = logging.getLogger(name)
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
        logger.propagate = True
