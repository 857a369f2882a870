"""Multimedia recommendation at Amazon Baby scale on 2 CPU threads: MGCN epoch, full-ranking evaluation, memory.

Writes an `affect synth rec` stand-in the size of Amazon Baby (19,445 users, 7,050 items, 160,792 interactions,
4096-d image-like and 384-d text-like features) into a temporary folder, then for MGCN (and, by default, its BeFA
variant; ``--methods`` picks others) with the default configs (experiments/_defaults/methods/*.yaml):

- builds the module (the two frozen kNN item-item graphs on the raw features included) and times it;
- times training epochs through ``Trainer.fit`` with validation off (batch 2048, BPR triples resampled per
  epoch); the figure is the mean over epochs after the first (the first also warms up allocators);
- times one full-ranking evaluation of ALL users: one propagation, scores against all 7,050 items in chunks,
  training items masked, top-50, Recall/NDCG@10/20/50 against the test split.

Targets (issue 7): epoch < 20 s, evaluation < 10 s, peak memory < 6 GB. Peak memory is the process's peak
resident set size (VmHWM), covering data generation, graph building, training and evaluation. The machine is
shared: the 1-minute load average and process CPU seconds are recorded, and wall time far above CPU time / 2
means other jobs took the cores.

Writes benchmarks/results/rec.json. Run: ``.venv/bin/python benchmarks/rec.py [--epochs 3] [--methods mgcn ...]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

from core import process

process.configure()  # the thread policy, before torch loads (core/process.py)

import lightning.pytorch as pl
import torch

from core.io import write_json
from core.ranking import full_ranking_topk, recall_ndcg_at_k
from datamodules.mmrec import MMRecDataModule
from experiments import registry
from experiments.config import load_experiment
from experiments.tasks.recommendation import EpochTimer
from rawdata.layouts.mmrec import load_mmrec
from rawdata.synth.rec import generate

RESULTS = Path(__file__).resolve().parent / "results" / "rec.json"
THREADS = 2
BABY = {"users": 19445, "items": 7050, "interactions": 160792, "image_dim": 4096, "text_dim": 384}
TARGETS = {"epoch_s": 20.0, "eval_s": 10.0, "peak_gb": 6.0}


def timed(function):
    """(result, wall seconds, process CPU seconds) of calling ``function()``."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = function()
    return result, round(time.perf_counter() - wall, 2), round(time.process_time() - cpu, 2)


def peak_rss_gb() -> float:
    """Peak resident set size of this process so far (Linux VmHWM), in GB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024**2, 3)
    return float("nan")


def train_epochs(module, datamodule, epochs: int) -> tuple[list[float], float]:
    timer = EpochTimer()
    trainer = pl.Trainer(accelerator="cpu", devices=1, max_epochs=epochs, limit_val_batches=0, logger=False,
                         enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
                         num_sanity_val_steps=0, callbacks=[timer])
    cpu = time.process_time()
    trainer.fit(module, datamodule=datamodule)
    return [round(s, 2) for s in timer.seconds], round(time.process_time() - cpu, 2)


def evaluate_all_users(module, datamodule) -> dict:
    """One full-ranking pass over every user with test items, as the test loop runs it."""
    module.eval()
    users = torch.tensor(sorted(datamodule.test), dtype=torch.long)

    def run():
        scorer = module.user_scorer()
        topk = full_ranking_topk(scorer, module.train_mask, users, k=50, chunk_size=4096)
        return recall_ndcg_at_k(topk, [datamodule.test[int(u)] for u in users], (10, 20, 50))

    metrics, wall, cpu = timed(run)
    return {"seconds": wall, "cpu_seconds": cpu, "users": len(users), "recall@20": metrics["recall@20"]}


def bench_method(name: str, root: Path, data, epochs: int) -> dict:
    cfg = load_experiment(f"{name}/recsynth", [f"data.root={root}"], profile="default")
    spec = registry.method(cfg.method)
    datamodule = MMRecDataModule(root, batch_size=int(cfg.data.batch_size), seed=0, data=data,
                                 train_batches=str(spec.extra.get("train_batches", "bpr")))
    pl.seed_everything(0, verbose=False)
    module, build_s, build_cpu = timed(lambda: spec.load()(cfg, datamodule.info()))
    epoch_seconds, train_cpu = train_epochs(module, datamodule, epochs)
    steady = epoch_seconds[1:] or epoch_seconds
    return {
        "build_seconds": build_s,
        "build_cpu_seconds": build_cpu,
        "epoch_seconds": epoch_seconds,
        "epoch_seconds_mean": round(sum(steady) / len(steady), 2),
        "train_cpu_seconds": train_cpu,
        "steps_per_epoch": len(datamodule.train_dataloader()),
        "parameters": sum(p.numel() for p in module.parameters()),
        "evaluation": evaluate_all_users(module, datamodule),
        "peak_rss_gb_so_far": peak_rss_gb(),
    }


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--methods", nargs="+", default=["mgcn", "befa-mgcn"])
    parser.add_argument("--threads", type=int, default=THREADS, help="torch intra-op threads (the target is for 2)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    load_start = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-rec-") as tmp:
        root = Path(tmp) / "baby_scale"
        _, generate_s, _ = timed(lambda: generate(root, seed=0, **BABY))
        data, load_s, _ = timed(lambda: load_mmrec(root))
        methods = {name: bench_method(name, root, data, args.epochs) for name in args.methods}
    peak = peak_rss_gb()
    first = methods[args.methods[0]]
    figures = {
        f"{args.methods[0]}_epoch": {"value": first["epoch_seconds_mean"], "unit": "s", "target": TARGETS["epoch_s"],
                                     "note": f"{first['steps_per_epoch']} steps of 2048 BPR triples"},
        "full_ranking_eval_all_users": {"value": first["evaluation"]["seconds"], "unit": "s",
                                        "target": TARGETS["eval_s"],
                                        "note": f"{first['evaluation']['users']} users x {BABY['items']} items, "
                                                f"{args.methods[0]}"},
        "peak_memory": {"value": peak, "unit": "GB", "target": TARGETS["peak_gb"], "note": "process peak RSS"},
    }
    for name in args.methods[1:]:
        figures[f"{name}_epoch"] = {"value": methods[name]["epoch_seconds_mean"], "unit": "s"}
        figures[f"{name}_eval_all_users"] = {"value": methods[name]["evaluation"]["seconds"], "unit": "s"}
    result = {
        "figures": figures,
        "scale": BABY,
        "generate_seconds": generate_s,
        "load_seconds": load_s,
        "methods": methods,
        "machine": {"threads": args.threads, "cpus": os.cpu_count(), "load_average_1min_at_start": load_start,
                    "load_average_1min_at_end": os.getloadavg()[0], "python": platform.python_version(),
                    "torch": torch.__version__},
    }
    write_json(RESULTS, result)
    return result


if __name__ == "__main__":
    import json

    print(json.dumps(main()["figures"], indent=2))
