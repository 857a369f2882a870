"""RRRN on its paper's protocol: MEGC2018 (CASME II + SAMM, objective classes I-V), holdout-database
(`rrrn-lodo/megc2018`: train on one database, test on the other) and composite evaluation (`rrrn/megc2018`: LOSO over
the subjects of both with a clip of classes I-V, 57 on the stand-ins), on the stand-ins. STAND-IN DATA: the
objective classes are derived from each stand-in clip's AUs (experiments/_defaults/datasets/megc2018.yaml), so a
number here says whether the network reads the stand-in's motion, not what RRRN scores on MEGC2018.

Each run is ``affect train <experiment> seed=N`` in a child process (benchmarks/timed_runs.py: start-up, data
loading and every fold counted; results, checkpoints and MLflow in a scratch folder) with ``data.processed_root`` at
``--source``. ``--seeds`` repeats the run; ``--control`` adds a permuted-label run of seed 0
(``data.negative_control=permuted_labels``), the chance level a model that learns nothing reaches. Rows are kept
across calls in benchmarks/results/rrrn_megc2018.json, keyed ``<experiment>[seed=N]`` or
``<experiment>[control]``, with UF1, UAR, the majority-class UF1, CPU and wall seconds and the data identity (a hash
of the two index files); ``seeds`` holds mean and sample std per experiment over the seeds run. Nothing here
selects a setting: every run uses the experiment's defaults.

Run: ``.venv/bin/python benchmarks/rrrn_megc2018.py --experiments rrrn-lodo/megc2018 --seeds 0 1 2 --control
[--source DIR] [--set trainer.fold_workers=1 trainer.num_threads=1]``.
"""

from __future__ import annotations

import argparse
import hashlib
import tempfile
from pathlib import Path

import pandas as pd
from timed_runs import run_experiment, spread  # benchmarks/ is the script folder: on sys.path

from core.config import project_root
from core.io import write_json
from core.provenance import git_commit
from reports.results import read_json

RESULTS = Path(__file__).resolve().parent / "results" / "rrrn_megc2018.json"
DATABASES = ("casme2", "samm")
EXPERIMENTS = ("rrrn-lodo/megc2018", "rrrn/megc2018")
CONTROL = "data.negative_control=permuted_labels"


def data_identity(root: Path) -> str:
    """Hash of the two databases' index files: which clips (and labels) a row was scored on."""
    digest = hashlib.sha256()
    for name in DATABASES:
        path = root / name / "index.csv"
        if not path.is_file():
            raise SystemExit(f"{path}: missing; expected the processed {name} stand-in (run `dvc repro` or "
                             f"`affect preprocess faces {name}` first, or pass --source)")
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def row_of(run: dict, identity: str, stand_in: bool) -> dict:
    metrics = run["metrics"]
    keep = ("uf1", "uar", "accuracy", "majority_uf1", "n_folds", "n_samples")
    return {**{k: round(float(metrics[k]), 4) if isinstance(metrics.get(k), float) else metrics.get(k) for k in keep},
            "seed": run["seed"], "overrides": run["overrides"], "cpu_seconds": run["cpu_seconds"],
            "wall_seconds": run["wall_seconds"], "load_average_1min_at_start": run["load_average_1min_at_start"],
            "fold_seconds": run["fold_seconds"], "data_identity": identity, "stand_in": stand_in,
            "commit": git_commit(project_root())}


def summarise(rows: dict) -> dict:
    """Per experiment, UF1 / UAR mean and sample std over the seeds run (controls left out), and the control's UF1."""
    out = {}
    for experiment in EXPERIMENTS:
        seeds = [r for k, r in rows.items() if k.startswith(f"{experiment}[seed=")]
        if not seeds:
            continue
        out[experiment] = {"uf1": spread([r["uf1"] for r in seeds]), "uar": spread([r["uar"] for r in seeds]),
                           "seeds": sorted(r["seed"] for r in seeds)}
        control = rows.get(f"{experiment}[control]")
        if control:
            out[experiment]["control_uf1"] = control["uf1"]
    return out


def main(experiments: list[str], seeds: list[int], control: bool, source: Path, overrides: tuple[str, ...],
         out: Path, scratch: Path) -> dict:
    identity = data_identity(source)
    stand_in = all(bool(pd.read_csv(source / n / "index.csv")["standin"].all()) for n in DATABASES)
    results, problem = read_json(out) if out.is_file() else ({}, None)
    if results is None:
        raise SystemExit(f"{out}: not a results file of benchmarks/rrrn_megc2018.py ({problem})")
    rows = results.setdefault("runs", {})
    if any(r.get("data_identity") != identity for r in rows.values()):
        raise SystemExit(f"{out}: holds rows of other data than {source} ({identity}); use another --out")
    plan = [(e, s, ()) for e in experiments for s in seeds] + [(e, 0, (CONTROL,)) for e in experiments if control]
    for experiment, seed, extra in plan:
        key = f"{experiment}[control]" if extra else f"{experiment}[seed={seed}]"
        if key in rows:
            continue  # kept from an earlier call
        folder = scratch / key.replace("/", "--")
        folder.mkdir(parents=True, exist_ok=True)
        run = run_experiment(experiment, seed, folder, (f"data.processed_root={source}", *overrides, *extra))
        rows[key] = row_of(run, identity, stand_in)
        print(key, rows[key]["uf1"], rows[key]["uar"], rows[key]["cpu_seconds"], flush=True)
        results.update({"what": __doc__.split("\n\n")[0], "stand_in": stand_in, "data_identity": identity,
                        "seeds": summarise(rows)})
        write_json(out, results)
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiments", nargs="+", default=list(EXPERIMENTS), choices=EXPERIMENTS)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--control", action="store_true", help="add a permuted-label run of seed 0 per experiment")
    parser.add_argument("--source", type=Path, default=None, help="processed root (default: data/processed)")
    parser.add_argument("--set", nargs="*", default=[], dest="overrides", help="config overrides of every run "
                        "(speed only: trainer.fold_workers=1 trainer.num_threads=1)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--scratch", type=Path, default=None, help="results, checkpoints, MLflow (default: a temp dir)")
    args = parser.parse_args()
    source = (args.source or project_root() / "data" / "processed").resolve()
    scratch = args.scratch or Path(tempfile.mkdtemp(prefix="rrrn_megc2018_"))
    main(args.experiments, args.seeds, args.control, source, tuple(args.overrides), args.out, scratch)
