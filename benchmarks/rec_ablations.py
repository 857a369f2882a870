"""Fidelity ablations of the recommenders on MovieLens-100k (issue 17), over seeds: test and validation Recall@20.

Each set compares variants of one experiment that differ only by the overrides listed; every (variant, seed) is a
full run through the runner (early stopping on validation Recall@20, the selected checkpoint tested once) into a
temporary results root and MLflow store, so the project's results are not touched. Sets:

- ``mgcn_fidelity``: MGCN with the authors' similarity-weighted kNN edges and lr decay (the defaults) against the
  binary edges and constant learning rate it had before;
- ``befa_forms``: VBPR and MGCN without BeFA, with the released BeFA form (the default) and with our decoupled
  form;
- ``befa_vbpr_lr_1e-3``: the VBPR rows of ``befa_forms`` at the paper-default lr 1e-3 with patience 10 (the
  MovieLens default is 5e-3 with patience 5, chosen for the pipeline's budget);
- ``reg_forms``: VBPR and LightGCN with MMRec's settings, the regulariser in our squared form and in MMRec's
  norm form (VBPR: reg_weight 2.0, no biases, and for the norm form the whole vectors; LightGCN: reg_weight 1e-2,
  1 layer), the side-by-side the issue reports.

Test numbers are printed for comparison only; nothing here selects a default (defaults are fixed a priori or on
validation, see each method's docstring). Writes benchmarks/results/rec_ablations.json (sets already there are
kept unless re-run). Run: ``.venv/bin/python benchmarks/rec_ablations.py --sets mgcn_fidelity --seeds 0 1 2``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import tempfile
import time
from pathlib import Path

from core import process

process.configure()  # the thread policy, before torch loads (core/process.py)

import torch

from core.io import write_json
from experiments.runner import train

RESULTS = Path(__file__).resolve().parent / "results" / "rec_ablations.json"
SETS = {
    "mgcn_fidelity": {
        "authors (similarity edges, lr decay)": ("mgcn/movielens", []),
        "before (binary edges, constant lr)": ("mgcn/movielens", ["model.knn_weights=binary", "optim.scheduler=none"]),
    },
    "befa_forms": {
        "vbpr": ("vbpr/movielens", []),
        "vbpr + befa released": ("befa-vbpr/movielens", ["model.befa_form=released"]),
        "vbpr + befa decoupled": ("befa-vbpr/movielens", ["model.befa_form=decoupled"]),
        "mgcn": ("mgcn/movielens", []),
        "mgcn + befa released": ("befa-mgcn/movielens", ["model.befa_form=released"]),
        "mgcn + befa decoupled": ("befa-mgcn/movielens", ["model.befa_form=decoupled"]),
    },
    "befa_vbpr_lr_1e-3": {  # the paper-default lr, longer patience: does BeFA's effect on VBPR depend on it?
        "vbpr": ("vbpr/movielens", ["optim.lr=0.001", "trainer.early_stopping_patience=10"]),
        "vbpr + befa released": ("befa-vbpr/movielens", ["optim.lr=0.001", "trainer.early_stopping_patience=10",
                                                         "model.befa_form=released"]),
        "vbpr + befa decoupled": ("befa-vbpr/movielens", ["optim.lr=0.001", "trainer.early_stopping_patience=10",
                                                          "model.befa_form=decoupled"]),
    },
    "reg_forms": {
        "vbpr mmrec settings, squared on ids": ("vbpr/movielens", ["model.reg_weight=2.0", "model.biases=false"]),
        "vbpr mmrec settings, norm on whole vectors": (
            "vbpr/movielens", ["model.reg_weight=2.0", "model.biases=false", "model.reg_form=norm",
                               "model.reg_scope=full"]),
        "lightgcn mmrec settings, squared": ("lightgcn/movielens", ["model.reg_weight=0.01", "model.n_layers=1"]),
        "lightgcn mmrec settings, norm": ("lightgcn/movielens", ["model.reg_weight=0.01", "model.n_layers=1",
                                                                 "model.reg_form=norm"]),
    },
}
KEYS = ("recall@20", "ndcg@20", "valid_recall@20", "popularity_recall@20", "best_epoch", "stopped_epoch", "capped",
        "train_seconds")


def run_one(exp_id: str, overrides: list[str], seed: int, scratch: Path) -> dict:
    out = Path(tempfile.mkdtemp(dir=scratch))
    wall, cpu = time.perf_counter(), time.process_time()
    metrics = train(exp_id, [*overrides, f"seed={seed}", f"output.results_root={out / 'results'}",
                             f"output.checkpoints_root={out / 'checkpoints'}", "attribution.enabled=false"])
    result = {k: metrics.get(k) for k in KEYS}
    result.update({"seed": seed, "wall_seconds": round(time.perf_counter() - wall, 1),
                   "cpu_seconds": round(time.process_time() - cpu, 1)})
    return result


def summary(runs: list[dict]) -> dict:
    values = [r["recall@20"] for r in runs]
    valid = [r["valid_recall@20"] for r in runs]
    return {"recall@20_mean": round(statistics.mean(values), 4),
            "recall@20_sd": round(statistics.stdev(values), 4) if len(values) > 1 else None,
            "valid_recall@20_mean": round(statistics.mean(valid), 4), "seeds": len(runs),
            "capped_runs": sum(bool(r["capped"]) for r in runs)}


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sets", nargs="+", default=["mgcn_fidelity"], choices=sorted(SETS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--variants", nargs="*", default=None, help="only these variants (names as in SETS)")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    logging.getLogger("lightning").setLevel(logging.ERROR)
    result = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {"sets": {}}
    with tempfile.TemporaryDirectory(prefix="bench-rec-ablations-") as tmp:
        os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{Path(tmp) / 'mlflow.db'}"
        for name in args.sets:
            variants = result["sets"].setdefault(name, {})
            for variant, (exp_id, overrides) in SETS[name].items():
                if args.variants and variant not in args.variants:
                    continue
                runs = [run_one(exp_id, overrides, seed, Path(tmp)) for seed in args.seeds]
                variants[variant] = {"experiment": exp_id, "overrides": overrides, "runs": runs, **summary(runs)}
                print(name, variant, json.dumps(variants[variant] | {"runs": len(runs)}), flush=True)
                write_json(RESULTS, result)
    result["figures"] = {f"{name}: {variant}": {"value": v["recall@20_mean"], "unit": "recall@20",
                                                "note": f"sd {v['recall@20_sd']}, valid {v['valid_recall@20_mean']}, "
                                                        f"{v['seeds']} seeds"}
                         for name, variants in result["sets"].items() for variant, v in variants.items()}
    write_json(RESULTS, result)
    return result


if __name__ == "__main__":
    print(json.dumps(main()["figures"], indent=2))
