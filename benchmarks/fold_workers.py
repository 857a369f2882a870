"""Fold workers against one process: wall time and headline metrics of default-pipeline experiments.

Runs each experiment twice as `dvc repro` runs it (a new `affect train` process, benchmarks/timed_runs.py): with
``trainer.fold_workers=1`` (the folds one after the other in the process, torch's default threads) and with
``trainer.fold_workers=auto`` (one forked worker per core, one torch thread each), and records wall and CPU time
and the headline metrics of both. Metrics may differ in the last digits: one torch thread against two changes
the order of floating-point sums (tests/test_fold_workers.py proves bit-identical predictions at equal threads).

Needs the experiments' processed data: run it in a project where `dvc repro` has run (``--project``; the
pipeline_time.py clone kept with ``--keep`` serves). The machine should be idle.

Usage: ``python benchmarks/fold_workers.py --project DIR [--experiments KEY ...]``; writes
benchmarks/results/fold_workers.json (or ``--out``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT = ("ststnet--composite", "masked_decoupling--masked", "dgcnn--seed")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--project", type=Path, required=True, help="a project whose `dvc repro` has run")
    parser.add_argument("--experiments", nargs="+", default=list(DEFAULT), help="keys of params.yaml experiments")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "fold_workers.json")
    args = parser.parse_args(argv)
    os.environ["AFFECT_ROOT"] = str(args.project.resolve())
    sys.path.insert(0, str(REPO))
    from timed_runs import run_experiment

    from core.config import load_params

    params = load_params(args.project / "params.yaml")
    rows = []
    for key in args.experiments:
        entry = params.experiments[key]
        overrides = tuple(str(entry.args).split()) if entry.args else ()
        row = {"experiment": key, "id": str(entry.id)}
        for setting in ("1", "auto"):
            with tempfile.TemporaryDirectory() as scratch:
                run = run_experiment(str(entry.id), 0, Path(scratch), (*overrides, f"trainer.fold_workers={setting}"))
            kept = ("wall_seconds", "cpu_seconds", "load_average_1min_at_start")
            row[f"workers_{setting}"] = {k: run[k] for k in kept if k in run}
            row[f"workers_{setting}"]["headline"] = {k: v for k, v in run["metrics"].items()
                                                     if isinstance(v, float)}
            row[f"workers_{setting}"]["fold_workers"] = run["metrics"].get("fold_workers")
            print(key, setting, row[f"workers_{setting}"]["wall_seconds"], flush=True)
        row["speedup"] = round(row["workers_1"]["wall_seconds"] / row["workers_auto"]["wall_seconds"], 2)
        rows.append(row)
    result = {"cpus": os.cpu_count(), "rows": rows}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps([{k: r[k] for k in ("experiment", "speedup")} for r in rows], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
