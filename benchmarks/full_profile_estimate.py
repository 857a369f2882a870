"""Estimate the full profile's training stages that no timing sitting has measured yet, from a run of their first folds.

`make repro-full` (params-full.yaml) is timed over several sittings (benchmarks/pipeline_time.py --accumulate,
benchmarks/results/pipeline_time_full.json: each stage's wall time as `dvc repro` ran it). Its longest stages, the
leave-one-subject-out runs of the deep micro-expression methods (RRRN, SMA-STN, LTR3O, MPT: up to 72 folds), take
hours each on 2 cores. This script runs each stage still missing from that file as the pipeline runs it
(``affect train <id> seed=<seed> data.negative_control=<params'> <args>``, in the full-profile clone, on its data,
with this checkout's code) but only its first ``--folds`` folds (``protocol.max_folds``; default 2, one round of the
two fold workers that train folds side by side in the real run). The run records its protocol's fold count
(details.json ``n_folds_of_protocol``), and the stage is estimated as

    start-up + ceil(n_folds_of_protocol / fold workers) x round

where ``round`` is the mean over the rounds run of each round's longest fold and ``start-up`` the run's wall time
less the rounds. The folds of a LOSO run each train on nearly all the data, so their times differ little; folds
of unequal size (leave-one-dataset-out) make the estimate rougher. Every figure written here is an ESTIMATE, and is
labelled so; pipeline_time_full.json keeps measured stages only. Results, checkpoints and MLflow runs go to a
scratch folder: the clone's own results are not touched.

Usage::

    python benchmarks/full_profile_estimate.py --clone /work/full-clone [--stages 'train@rrrn*' ...] [--folds 2]
        [--scratch DIR] [--rerun]

Writes benchmarks/results/full_profile_estimate.json (merged: a stage already estimated is kept unless --rerun),
with the measured total of pipeline_time_full.json beside the estimated remainder.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import math
import os
import shlex
import tempfile
from pathlib import Path

import yaml
from timed_runs import run_experiment  # benchmarks/ is the script folder: on sys.path

from core.io import write_json
from core.provenance import git_commit
from experiments.quick_pipeline import training_stage_entries

REPO = Path(__file__).resolve().parents[1]
MEASURED = REPO / "benchmarks" / "results" / "pipeline_time_full.json"
OUT = REPO / "benchmarks" / "results" / "full_profile_estimate.json"


def fold_rounds(fold_seconds: dict[str, float], workers: int) -> list[float]:
    """The longest fold of each round of ``workers`` folds, in fold order."""
    times = list(fold_seconds.values())
    return [max(times[i:i + workers]) for i in range(0, len(times), workers)]


def estimate(run: dict) -> dict:
    """The stage's estimated seconds from a run of its first folds (see the module doc)."""
    metrics = run["metrics"]
    workers = max(1, int(metrics.get("fold_workers", 1)))
    total = int(metrics.get("n_folds_of_protocol") or metrics["n_folds"])
    rounds = fold_rounds(run["fold_seconds"], workers)
    per_round = sum(rounds) / len(rounds)
    start_up = max(0.0, run["wall_seconds"] - sum(rounds))
    return {"n_folds_of_protocol": total, "folds_run": int(metrics["n_folds"]), "fold_workers": workers,
            "round_seconds": round(per_round, 1), "start_up_seconds": round(start_up, 1),
            "estimated_seconds": round(start_up + math.ceil(total / workers) * per_round, 1)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clone", type=Path, required=True, help="the full-profile clone (its params.yaml and data)")
    parser.add_argument("--stages", nargs="+", default=["*"], metavar="GLOB",
                        help="only the missing stages matching these globs (default: every missing training stage)")
    parser.add_argument("--folds", type=int, default=2, help="folds to run of each stage (protocol.max_folds)")
    parser.add_argument("--scratch", type=Path, default=None, help="results, checkpoints, MLflow store")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--rerun", action="store_true", help="estimate stages already in --out again")
    args = parser.parse_args(argv)
    clone = args.clone.resolve()
    params = yaml.safe_load((clone / "params.yaml").read_text(encoding="utf-8"))
    measured = json.loads(MEASURED.read_text(encoding="utf-8"))
    done = json.loads(args.out.read_text(encoding="utf-8")) if args.out.is_file() else {}
    estimated = dict(done.get("stages", {}))
    stages = training_stage_entries(params)
    todo = [s for s in stages if s not in measured["stages"] and any(fnmatch.fnmatch(s, g) for g in args.stages)
            and (args.rerun or s not in estimated)]
    scratch = args.scratch or Path(tempfile.mkdtemp(prefix="affect-estimate-"))
    os.environ["AFFECT_ROOT"] = str(clone)  # the runs read the clone's params.yaml and data
    seed = int(params.get("seed", 0))
    for stage in todo:
        entry = stages[stage]
        overrides = (f"data.negative_control={params.get('negative_control', 'none')}",
                     *shlex.split(str(entry.get("args") or "")), f"protocol.max_folds={args.folds}")
        run = run_experiment(str(entry["id"]), seed, scratch / stage.replace("@", "__"), overrides)
        estimated[stage] = {"experiment": entry["id"], "overrides": list(overrides), "estimate": True,
                            "wall_seconds_of_the_run": run["wall_seconds"],
                            "cpu_seconds_of_the_run": run["cpu_seconds"],
                            "load_average_1min_at_start": run["load_average_1min_at_start"],
                            "fold_seconds": run["fold_seconds"], "commit": git_commit(REPO), **estimate(run)}
        print(f"{stage}: {estimated[stage]['estimated_seconds'] / 60:.1f} min estimated "
              f"({estimated[stage]['n_folds_of_protocol']} folds; {run['wall_seconds']:.0f} s for the first "
              f"{estimated[stage]['folds_run']})", flush=True)
        save(args.out, measured, stages, estimated, args.folds)
    save(args.out, measured, stages, estimated, args.folds)
    return 0


def save(out: Path, measured: dict, stages: dict, estimated: dict, folds: int) -> None:
    missing = [s for s in stages if s not in measured["stages"] and s not in estimated]
    measured_seconds = float(measured.get("repro_seconds_sum_of_stages", 0.0))
    estimated_seconds = sum(e["estimated_seconds"] for e in estimated.values())
    write_json(out, {
        "what": "ESTIMATES of the full profile's training stages not yet timed by a sitting, each from a run of its "
                f"first {folds} folds (benchmarks/full_profile_estimate.py); measured stages are in "
                "pipeline_time_full.json",
        "measured_stages": len(measured["stages"]), "measured_seconds": round(measured_seconds, 1),
        "estimated_stages": len(estimated), "estimated_seconds": round(estimated_seconds, 1),
        "neither": missing, "total_seconds_measured_plus_estimated": round(measured_seconds + estimated_seconds, 1),
        "cpus": os.cpu_count(), "stages": estimated,
    })


if __name__ == "__main__":
    raise SystemExit(main())
