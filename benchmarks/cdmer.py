"""Cross-database (CDMER) benchmark on stand-ins: the task x method table, honest vs oracle selection, time per task.

Needs a project folder (``--root``, used as AFFECT_ROOT) whose data/processed/ holds the LBP-TOP features of the
benchmark's databases (casme2, smic, smic_vis, smic_nir: ``affect synth`` + ``affect preprocess ... features``).
Each (task, method) is one ``train()`` of the method's CASME II -> SMIC-HS experiment (experiments/<name>/
casme2_to_smic.yaml: its model and selection grid) pointed at the task by overrides (data.sources,
protocol.source/target), its results under ``--root``/bench_results/<task>/. Recorded per run: the headline target
UAR/UF1/WAR with the honest rule's choice (selection.rule, reverse validation by default), the source-CV choice's
target UAR, the oracle's target UAR (selects on target labels) and the gap, and the wall/CPU seconds of the run.

    python benchmarks/cdmer.py --root /tmp/cdm/proj --tasks casme2_to_smic --names source_only coral tsrg
    -> benchmarks/results/cdmer.json

``--combine`` runs nothing: it reads tables written on several generator draws (each file's CASME II stand-in seed
names its draw) and writes each method's and each (task, method) cell's mean +- std over the draws.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np

from core.io import write_json
from rawdata.datasets import cdmer_task_pairs

NAMES = ("source_only", "coral", "sa", "tca", "kmm", "tsrg", "rstr", "tgsr")
OUT = Path(__file__).parent / "results" / "cdmer.json"


def run_one(name: str, task: str, root: Path, seed: int, extra: tuple[str, ...] = ()) -> dict:
    from experiments.runner import train

    source, target = task.split("_to_")
    overrides = [f"data.sources=[{source},{target}]", f"protocol.source={source}", f"protocol.target={target}",
                 f"output.results_root={root / 'bench_results' / task}",
                 f"output.checkpoints_root={root / 'bench_checkpoints' / task}", f"seed={seed}", *extra]
    cpu, wall = time.process_time(), time.perf_counter()
    metrics = train(f"{name}/casme2_to_smic", overrides)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return row(name, task, metrics, round(wall, 2), round(cpu, 2))


def row(name: str, task: str, metrics: dict, wall: float | None, cpu: float | None) -> dict:
    """One table row from a run's metrics (train()'s return: the headline and the details together)."""
    selection = metrics.get("selection", {})
    oracle = metrics.get("oracle", {})
    return {
        "task": task, "name": name, "n_source": metrics["n_source"], "n_target": metrics["n_samples"],
        "rule": metrics["selection_rule"], "selected": metrics["selected"],
        "uar": metrics["uar"], "uf1": metrics["uf1"], "war": metrics["war"],
        "source_cv_uar": selection.get("source_cv", {}).get("uar"),
        "reverse_validation_uar": selection.get("reverse_validation", {}).get("uar"),
        "iwcv_uar": selection.get("iwcv", {}).get("uar"),
        "oracle_uar": oracle.get("uar"), "oracle_selected": oracle.get("params"),
        "oracle_gap_uar": metrics.get("oracle_gap_uar"), "grid_points": len(metrics["grid"]),
        "wall_seconds": wall, "cpu_seconds": cpu, "seconds": metrics["seconds"],
    }


def harvest(project: Path, names, tasks) -> list[dict]:
    """Rows of the pipeline's own CDMER runs in ``project`` (results/<name>/<task>/: metrics.json, details.json,
    run.json), e.g. a `make repro-full` clone: the experiments' own configs and grids, not this script's overrides.
    Runs that are not there are left out (``main`` lists them under ``not_found``)."""
    import json

    rows = []
    for task in tasks:
        for name in names:
            folder = project / "results" / name / task
            if not (folder / "metrics.json").is_file() or not (folder / "details.json").is_file():
                continue
            metrics = {**json.loads((folder / "details.json").read_text()),
                       **json.loads((folder / "metrics.json").read_text())}
            run = json.loads((folder / "run.json").read_text()) if (folder / "run.json").is_file() else {}
            rows.append({**row(name, task, metrics, run.get("seconds"), None), "seed": run.get("seed"),
                         "standin": run.get("standin"), "git_commit": run.get("git_commit"),
                         "profile": run.get("profile")})
    return rows


def stats(values) -> dict | None:
    """Mean, std and count of the values that are not None (None when there are none)."""
    values = [v for v in values if v is not None]
    return {"mean": float(np.mean(values)), "std": float(np.std(values)), "n": len(values)} if values else None


def summarise(rows: list[dict]) -> dict:
    def mean(values):
        found = stats(values)
        return found["mean"] if found else None

    by_name = {}
    for name in dict.fromkeys(r["name"] for r in rows):
        part = [r for r in rows if r["name"] == name]
        by_name[name] = {"mean_uar": mean(r["uar"] for r in part),
                         "mean_oracle_uar": mean(r["oracle_uar"] for r in part),
                         "mean_gap_uar": mean(r["oracle_gap_uar"] for r in part),
                         "mean_wall_seconds": mean(r["wall_seconds"] for r in part), "n_tasks": len(part)}
    return by_name


def combine_draws(docs: list[dict]) -> dict:
    """Mean +- std over generator draws of tables written by this script (a draw is a file's ``standin_seed_casme2``;
    several files of one draw, e.g. one per method, are pooled). Per method: the mean target UAR over the tasks of
    each draw, then its mean and std over the draws; per (task, method): UAR and oracle UAR over the draws; per
    method and draw: on how many tasks it beats the source-only SVM."""
    draws: dict = {}
    for doc in docs:
        draws.setdefault(doc.get("standin_seed_casme2"), []).extend(doc["runs"])
    if None in draws:
        raise ValueError("a table without standin_seed_casme2: its generator draw is unknown")

    names = list(dict.fromkeys(r["name"] for rows in draws.values() for r in rows))
    tasks = list(dict.fromkeys(r["task"] for rows in draws.values() for r in rows))
    cell = {(seed, r["task"], r["name"]): r for seed, rows in draws.items() for r in rows}
    by_method, by_cell = {}, {}
    for name in names:
        per_draw = {}
        for seed in draws:
            mine = [cell[seed, t, name] for t in tasks if (seed, t, name) in cell]
            if len(mine) != len(tasks):  # a draw missing a task would bias the mean: leave the draw out, say so
                continue
            wins = None if name == "source_only" else sum(
                r["uar"] > cell[seed, r["task"], "source_only"]["uar"]
                for r in mine if (seed, r["task"], "source_only") in cell)
            oracle = stats(r["oracle_uar"] for r in mine)
            per_draw[str(seed)] = {"mean_uar": float(np.mean([r["uar"] for r in mine])),
                                   "mean_oracle_uar": oracle["mean"] if oracle else None,
                                   "tasks_beating_source_only": wins}
        by_method[name] = {"mean_uar_over_draws": stats(d["mean_uar"] for d in per_draw.values()),
                           "mean_oracle_uar_over_draws": stats(d["mean_oracle_uar"] for d in per_draw.values()),
                           "per_draw": per_draw, "draws_complete": len(per_draw)}
        for task in tasks:
            runs = [cell[seed, task, name] for seed in draws if (seed, task, name) in cell]
            by_cell[f"{task}/{name}"] = {"uar": stats(r["uar"] for r in runs),
                                         "oracle_uar": stats(r["oracle_uar"] for r in runs),
                                         "uf1": stats(r.get("uf1") for r in runs)}
    return {"draws": sorted(draws), "tasks": tasks, "by_method": by_method, "by_cell": by_cell}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, help="project folder with data/processed/ (all but --combine)")
    parser.add_argument("--tasks", nargs="+", default=[f"{s}_to_{t}" for s, t in cdmer_task_pairs()])
    parser.add_argument("--names", nargs="+", default=list(NAMES))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--set", nargs="*", default=[], help="extra overrides for every run (e.g. a fixed grid)")
    parser.add_argument("--from-results", action="store_true",
                        help="run nothing: read the pipeline's own runs under --root/results (e.g. a `make "
                        "repro-full` clone; each experiment's own grid) into the table")
    parser.add_argument("--combine", nargs="+", metavar="TABLE[@SEED]",
                        help="run nothing: mean +- std over the generator draws of these tables (--out); @SEED "
                        "names the CASME II stand-in seed of a table that does not record it")
    args = parser.parse_args()
    if args.combine:
        docs = []
        for spec in args.combine:  # TABLE or TABLE@SEED: an older table that does not record its draw's seed
            path, _, seed = str(spec).partition("@")
            doc = json.loads(Path(path).read_text())
            if seed and doc.setdefault("standin_seed_casme2", int(seed)) != int(seed):
                parser.error(f"{path} records CASME II stand-in seed {doc['standin_seed_casme2']}, not {seed}")
            docs.append(doc)
        combined = combine_draws(docs)
        write_json(args.out, {"about": "CDMER task x method table over generator draws (benchmarks/cdmer.py "
                              "--combine); every figure on stand-ins", "tables": [str(p) for p in args.combine],
                              **combined})
        for name, row in combined["by_method"].items():
            print(name, row["mean_uar_over_draws"])
        return
    if args.root is None:
        parser.error("--root is required (all but --combine)")
    if args.from_results:
        rows = harvest(args.root, args.names, args.tasks)
        found = {(r["task"], r["name"]) for r in rows}
        experiments = Path(__file__).resolve().parents[1] / "experiments"
        missing = [f"{n}/{t}" for t in args.tasks for n in args.names
                   if (t, n) not in found and (experiments / n / f"{t}.yaml").is_file()]  # existing experiments only
        write_json(args.out, {"runs": rows, "from_results": str(args.root), "not_found": missing,
                              "by_method": summarise(rows)})
        print(f"{len(rows)} runs read, {len(missing)} not found -> {args.out}")
        return
    os.environ["AFFECT_ROOT"] = str(args.root)
    os.environ.setdefault("MLFLOW_TRACKING_URI", f"sqlite:///{args.root / 'bench_mlflow.db'}")
    rows = []
    for task in args.tasks:
        for name in args.names:
            rows.append(run_one(name, task, args.root, args.seed, tuple(args.set)))
            print(json.dumps({k: rows[-1][k] for k in ("task", "name", "uar", "oracle_uar", "wall_seconds")}),
                  flush=True)
    standin = json.loads((args.root / "data" / "raw" / "casme2" / "SYNTHETIC.json").read_text()) \
        if (args.root / "data" / "raw" / "casme2" / "SYNTHETIC.json").is_file() else {}
    write_json(args.out, {"runs": rows, "overrides": list(args.set), "by_method": summarise(rows), "seed": args.seed,
                          "standin_seed_casme2": standin.get("seed"), "machine": platform.machine(),
                          "cpus": os.cpu_count(), "load_average": os.getloadavg()[0]})


if __name__ == "__main__":
    main()
