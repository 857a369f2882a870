"""One training epoch on the micro-gesture stand-in, per method, on 2 CPU threads (target: under 60 s).

Generates the default stand-in (`affect synth microgesture`: 24 subjects x 12 classes x 3 repeats, T = 64) into a
temporary folder, builds the data source once (parse + load + normalise, timed), then for the CE baseline and
FG-SGL (default configs, `experiments/_defaults/methods/*.yaml`) builds the module (FG-SGL: including the frozen
MiniLM text encoder run on the class texts, timed apart) and times one `Trainer.fit` epoch over the training
split, and one prediction pass over the test split. The machine is shared, so the 1-minute load average at the
start and the process CPU time are recorded too: wall time well above CPU time / threads means contention.

Writes benchmarks/results/gesture.json. Run: ``.venv/bin/python benchmarks/gesture.py``.
"""

from __future__ import annotations

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
from datamodules.gesture import GestureSource
from datamodules.protocols import make_folds
from experiments import registry
from experiments.config import load_experiment
from rawdata.synth import generate

RESULTS = Path(__file__).resolve().parent / "results" / "gesture.json"
THREADS = 2
METHODS = ("skeleton_ce", "fgsgl")


def timed(function):
    """(result, wall seconds, process CPU seconds) of calling ``function()``."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = function()
    return result, round(time.perf_counter() - wall, 2), round(time.process_time() - cpu, 2)


def one_epoch(method: str, root: Path) -> dict:
    cfg = load_experiment(f"{method}/microgesture", [f"data.root={root}", "trainer.max_epochs=1"], profile="default")
    spec = registry.method(cfg.method)
    source, load_s, _ = timed(lambda: GestureSource(cfg, spec.inputs, Path(".")))
    (fold,) = make_folds(source.index, cfg.protocol)
    pl.seed_everything(0, verbose=False)
    module, build_s, _ = timed(lambda: spec.load()(cfg, source.info(fold.train)))
    datamodule = source.datamodule(fold, seed=0)
    trainer = pl.Trainer(max_epochs=1, accelerator="cpu", logger=False, enable_checkpointing=False,
                         enable_progress_bar=False, enable_model_summary=False)
    _, fit_s, fit_cpu = timed(lambda: trainer.fit(module, datamodule=datamodule))
    _, predict_s, _ = timed(lambda: trainer.predict(module, datamodule=datamodule))
    return {
        "n_train": len(fold.train), "n_test": len(fold.test), "data_load_seconds": load_s,
        "build_seconds": build_s, "epoch_seconds": fit_s, "epoch_cpu_seconds": fit_cpu,
        "train_samples_per_second": round(len(fold.train) / fit_s, 1), "predict_seconds": predict_s,
        "parameters": sum(p.numel() for p in module.parameters() if p.requires_grad),
        "under_60_s": fit_s < 60.0,
    }


def main() -> dict:
    torch.set_num_threads(THREADS)
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "microgesture"
        summary, synth_s, _ = timed(lambda: generate("microgesture", root, seed=0))
        results = {method: one_epoch(method, root) for method in METHODS}
    report = {
        "what": "one training epoch on the default micro-gesture stand-in (CPU)",
        "threads": THREADS, "cpu_count": os.cpu_count(), "load_average_1min_at_start": round(load_before, 2),
        "python": platform.python_version(), "torch": torch.__version__,
        "standin": {**summary, "generate_seconds": synth_s}, "methods": results,
    }
    write_json(RESULTS, report)
    return report


if __name__ == "__main__":
    import json

    print(json.dumps(main(), indent=2))
