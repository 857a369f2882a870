"""EEG experiments over run seeds, seed-major: every experiment's first seed before any experiment's second.

Runs each experiment exactly as benchmarks/eeg_methods.py does (its ``run``: the default pipeline in a scratch
project, on the default stand-in of the experiment's dataset written with generator seed ``--seed``), once per run
seed (``seed=<s>``), in the order seed 1 of every experiment (in the order given: cheapest first), then seed 2, ...,
writing the JSON after every run, so a run cut short leaves every finished measurement and a ``not_run`` list.

Recorded runs are reused, not repeated: with ``--reuse FILE`` (default benchmarks/results/eeg_methods.json) an
experiment's entry there supplies the seeds it already has (its ``seed_runs``, or the entry itself as its
``run_seed``, an entry without one ran at the config's default seed 0) when its ``standin`` is the stand-in this
script writes (kind, subjects, generator seed, generator VERSION): the generators are deterministic, so these are
the same files. An entry on an older stand-in is not reused (``reuse_refused`` says why). ``--check EXP`` re-runs
a reused seed of one experiment first and records both figures (``reproduction``): a check that the recorded runs
still describe the current code (the training is deterministic per seed); when they differ the new run replaces the
recorded one. ``--fold-workers`` as in eeg_methods.py.

Per experiment: ``seed_runs`` (each seed's subject-averaged accuracy / macro-F1, pooled accuracy / UF1, CPU and wall
seconds, load average before, and ``source``: this file's run or the reused file), ``over_seeds`` (mean, sample sd,
min, max; eeg_methods.py ``over_seeds``) over the seeds present, ``standin``. The numbers are measurements on
synthetic stand-ins, not dataset accuracies.

    PYTHONPATH=. python benchmarks/eeg_seed_runs.py --experiments dgcnn-cross_session/seed_iv dgcnn/seed_iv ...
        [--seeds 0 1 2] [--reuse benchmarks/results/eeg_methods.json] [--check dgcnn/seed_iv]
        [--out benchmarks/results/eeg_seed_runs.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
from pathlib import Path

from eeg_methods import OUT as METHODS_OUT  # benchmarks/ is the script folder: on sys.path
from eeg_methods import over_seeds, run
from timed_runs import scratch_project  # benchmarks/ is the script folder: on sys.path

OUT = Path(__file__).parent / "results" / "eeg_seed_runs.json"
KEEP = ("subject_accuracy_mean", "subject_accuracy_std", "subject_f1_mean", "accuracy", "uf1", "cpu_seconds",
        "wall_seconds", "load_average_1_5_15_before", "n_folds", "max_epochs")


def shown(path: Path) -> str:
    """``path`` relative to the repository when it lies inside it."""
    try:
        return str(path.resolve().relative_to(Path(__file__).resolve().parents[1]))
    except ValueError:
        return str(path)


def reusable(entry: dict | None, standin: dict) -> tuple[dict[str, dict], str | None]:
    """Seed -> recorded run of ``entry`` if it ran on ``standin``; else ({}, why not)."""
    if entry is None:
        return {}, "no recorded entry"
    if entry.get("standin") != standin:
        return {}, f"recorded on stand-in {entry.get('standin')}, not {standin}"
    if entry.get("smoke_check_only"):
        return {}, "recorded run is a smoke check"
    if "seed_runs" in entry:
        return {s: {k: r.get(k) for k in KEEP} for s, r in entry["seed_runs"].items()}, None
    seed = entry.get("run_seed")
    return {str(0 if seed is None else seed): {k: entry.get(k) for k in KEEP}}, None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiments", nargs="+", required=True, help="in run order (cheapest first)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--seed", type=int, default=0, help="generator seed of the stand-ins")
    parser.add_argument("--subjects", type=int, default=None)
    parser.add_argument("--reuse", type=Path, default=METHODS_OUT)
    parser.add_argument("--check", nargs="*", default=[], help="experiments whose reused seed is re-run once")
    parser.add_argument("--fold-workers", default=None)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    from core.io import write_json
    from rawdata.datasets import DATASETS
    from rawdata.synth import generate

    recorded = json.loads(args.reuse.read_text())["experiments"] if args.reuse and args.reuse.is_file() else {}
    workers = (f"trainer.fold_workers={args.fold_workers}",) if args.fold_workers else ()
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        roots: dict[str, tuple[Path, dict]] = {}
        for dataset in dict.fromkeys(e.split("/")[1] for e in args.experiments):  # as eeg_methods.py writes them
            subjects = args.subjects or DATASETS[dataset].standin_subjects
            summary = generate(dataset, scratch / dataset, subjects=subjects, seed=args.seed)
            roots[dataset] = ((scratch / dataset).resolve(), {"kind": dataset, "subjects": subjects,
                                                             "seed": args.seed, "version": summary.get("version")})
        entries: dict[str, dict] = {}
        for experiment in args.experiments:
            standin = roots[experiment.split("/")[1]][1]
            runs, why = reusable(recorded.get(experiment), standin)
            runs = {s: {**r, "source": shown(args.reuse)} for s, r in runs.items() if int(s) in args.seeds}
            entries[experiment] = {"standin": standin, "seed_runs": runs, "reuse_refused": why}
        todo = [("check", e, min(entries[e]["seed_runs"], key=int)) for e in args.check if entries[e]["seed_runs"]]
        todo += [("run", e, str(s)) for s in args.seeds for e in args.experiments
                 if str(s) not in entries[e]["seed_runs"]]
        done: set[tuple[str, str, str]] = set()
        reproduction: dict[str, dict] = {}

        def save() -> None:
            for entry in entries.values():
                runs = dict(sorted(entry["seed_runs"].items(), key=lambda kv: int(kv[0])))
                entry.update(seed_runs=runs, over_seeds=over_seeds(runs) if runs else None,
                             missing_seeds=[s for s in args.seeds if str(s) not in runs])
            write_json(args.out, {
                "what": "EEG experiments over run seeds on the default stand-ins (benchmarks/eeg_seed_runs.py)",
                "torch_threads": 1, "fold_workers": args.fold_workers or "the experiment's (auto)",
                "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                            "platform": platform.platform()},
                "load_average_1_5_15_at_write": [round(v, 2) for v in os.getloadavg()],
                "experiments": entries, "reproduction": reproduction,
                "not_run": [f"{e} seed {s}" + (" (reproduction check)" if kind == "check" else "")
                            for kind, e, s in todo if (kind, e, s) not in done]})

        save()
        project = scratch_project(scratch)
        for kind, experiment, seed in todo:
            result = run(experiment, roots[experiment.split("/")[1]][0], project, 0, (f"seed={seed}", *workers))
            now = {k: result.get(k) for k in KEEP}
            if kind == "check":
                then = entries[experiment]["seed_runs"][seed]
                same = round(then["subject_accuracy_mean"], 6) == round(now["subject_accuracy_mean"], 6)
                reproduction[experiment] = {"seed": int(seed), "recorded": then, "now": now,
                                            "same_subject_accuracy": same}
                if not same:  # the recorded run no longer describes the code: this run replaces it
                    entries[experiment]["seed_runs"][seed] = {**now, "source": "this run (recorded one differs)"}
            else:
                entries[experiment]["seed_runs"][seed] = {**now, "source": "this run"}
            done.add((kind, experiment, seed))
            print(kind, experiment, "seed", seed, {k: now[k] for k in ("subject_accuracy_mean", "cpu_seconds")},
                  flush=True)
            save()


if __name__ == "__main__":
    main()
