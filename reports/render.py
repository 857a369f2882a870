"""Draw the planned figures: skip those whose PNG is up to date, draw the rest in parallel processes.

A PNG is up to date when it is newer than every file it was drawn from (the run's metrics.json, predictions.csv,
interpretation.json, ...) and than the drawing code (reports/plots.py, reports/figures.py,
reports/figure_sets.py), so a rebuild after one experiment changed redraws only that experiment's figures.
Drawing is CPU-bound matplotlib work: with many figures it goes to a pool of ``spawn`` worker processes
(``spawn``, not ``fork``: the parent may hold torch or MLflow threads). A figure whose data are malformed
becomes a note, never a failed report.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from reports.figure_sets import FigureJob

log = logging.getLogger(__name__)

REPORTS_DIR = Path(__file__).resolve().parent
CODE_FILES = tuple(REPORTS_DIR / name for name in ("plots.py", "figures.py", "figure_sets.py"))
# A spawned worker imports numpy, matplotlib and the report (about 1.5 s of CPU) before it draws; a figure takes
# 0.05-0.15 s. Below this many stale figures one process is cheaper (a default pipeline's 8 experiments: 29
# figures, 4.4 s of CPU in one process against 5.3-5.6 s with 2 workers, both including the MLflow import).
MIN_JOBS_FOR_POOL = 48


def default_workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def is_fresh(path: Path, inputs: tuple[Path, ...]) -> bool:
    """The PNG exists and is newer than its inputs and the drawing code."""
    if not path.is_file():
        return False
    newest = max((p.stat().st_mtime for p in (*inputs, *CODE_FILES) if p.is_file()), default=0.0)
    return path.stat().st_mtime >= newest


def never_fresh(path: Path, inputs: tuple[Path, ...]) -> bool:
    return False


def render(jobs: list[FigureJob], workers: int = 1, redraw: bool = False) -> dict[Path, str | None]:
    """Draw every stale job; returns {path: None (drawn or up to date) | why it could not be drawn}."""
    outcome: dict[Path, str | None] = {}
    stale = []
    for job in jobs:
        if not redraw and is_fresh(job.path, job.inputs):
            outcome[job.path] = None
        else:
            stale.append(job)
    if workers > 1 and len(stale) >= MIN_JOBS_FOR_POOL:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            for job, problem in zip(stale, pool.map(draw_one, stale, chunksize=4)):
                outcome[job.path] = problem
    else:
        for job in stale:
            outcome[job.path] = draw_one(job)
    return outcome


def draw_one(job: FigureJob) -> str | None:
    """Draw one figure; the error text instead of an exception (one bad results file must not stop the report)."""
    try:
        job.draw(job.path, *job.args)
    except Exception as err:
        log.warning("figure %s not drawn: %s: %s", job.path.name, type(err).__name__, err)
        return f"{job.path.stem}: not drawn ({type(err).__name__}: {err})"
    return None
