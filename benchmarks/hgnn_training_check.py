"""Does HGNN train at all on the MODMA stand-in's size? Writes benchmarks/results/hgnn_training_check.json.

A diagnostic, not a score: on a CALIBRATION draw (generator seed 100, default stand-in: 24 subjects x 24 s; never
the benchmark's seed 0 nor the pipeline's seed 23), 18 training subjects and 6 inner-validation subjects (3 MDD,
3 HC; no test fold exists here), the network of hgnn/modma with the method's defaults (Adam lr 1e-3, weight decay
5e-4, 30 epochs) is trained by a plain loop on the suite's windows (datamodules/eeg.py ``read_modma``, 4-s windows,
``normalize: train``: every (channel, sample) cell z-scored with the training windows, the default when this ran;
hgnn's default is now ``none``, see benchmarks/hgnn_calibration.py) at two batch sizes:

- 128, the reference code's (and the method yaml's): the stand-in's ~108 training windows make ONE optimizer step
  per epoch, 30 steps in all (the release's ~4,000 windows make ~30 per epoch);
- 16: ~7 steps per epoch at the same compute per epoch.

Reported per batch size: training cross-entropy (every 5 epochs), training-window accuracy (eval mode) and the
inner-validation subject accuracy (mean window score per subject), CPU seconds.

    PYTHONPATH=$PWD nice -n 15 .venv/bin/python benchmarks/hgnn_training_check.py
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from omegaconf import OmegaConf

from core.io import write_json
from datamodules.eeg import read_modma
from experiments.config import load_experiment
from lightning_modules.hgnn.module import HGNN
from rawdata.synth import generate

SEED, SUBJECTS, SECONDS, EPOCHS, BATCHES = 100, 24, 24, 30, (128, 16)


def windows(folder: Path):
    cfg = OmegaConf.create({"data": {"channels": "ten_twenty", "reference": "average", "window_s": 4}})
    trials, arrays, channels, samples = read_modma(folder, cfg)
    mdd = sorted(trials.loc[trials.label == 1, "subject"])
    hc = sorted(trials.loc[trials.label == 0, "subject"])
    val = set(mdd[:3] + hc[:3])
    parts = {"train": [], "val": []}
    for row in trials.itertuples():
        x = arrays[row.sample_id]
        parts["val" if row.subject in val else "train"].append((x, np.full(len(x), row.label), [row.subject] * len(x)))
    out = {}
    for name, items in parts.items():
        out[name] = (np.concatenate([i[0] for i in items]), np.concatenate([i[1] for i in items]),
                     sum((i[2] for i in items), []))
    mean, std = out["train"][0].mean(0), out["train"][0].std(0) + 1e-6
    return {k: ((x - mean) / std, y, s) for k, (x, y, s) in out.items()}, channels, len(samples)


def train(data, channels, samples: int, batch: int) -> dict:
    torch.manual_seed(0)
    cfg = load_experiment("hgnn/modma")
    model = HGNN(list(channels), samples, 2, **{k: v for k, v in OmegaConf.to_container(cfg.model).items()
                                                if k != "entropy_weight"})
    opt = torch.optim.Adam(model.parameters(), lr=float(cfg.optim.lr), weight_decay=float(cfg.optim.weight_decay))
    x, y, _ = data["train"]
    x, y = torch.as_tensor(x, dtype=torch.float32), torch.as_tensor(y)
    generator = torch.Generator().manual_seed(0)
    losses, steps, cpu = {}, 0, time.process_time()
    for epoch in range(1, EPOCHS + 1):
        model.train()
        order = torch.randperm(len(x), generator=generator)
        total = []
        for start in range(0, len(x), batch):
            rows = order[start:start + batch]
            if len(rows) < 2:
                continue
            loss = F.cross_entropy(model(x[rows])["scores"], y[rows])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total.append(loss.item())
            steps += 1
        if epoch % 5 == 0:
            losses[epoch] = round(float(np.mean(total)), 4)
    model.eval()
    with torch.no_grad():
        train_acc = float((model(x)["scores"].argmax(1) == y).float().mean())
        vx, vy, vs = data["val"]
        p = torch.softmax(model(torch.as_tensor(vx, dtype=torch.float32))["scores"], 1)[:, 1].numpy()
    subjects = sorted(set(vs))
    correct = [(np.mean(p[np.array(vs) == s]) > 0.5) == bool(vy[vs.index(s)]) for s in subjects]
    return {"batch_size": batch, "optimizer_steps": steps, "train_loss_every_5_epochs": losses,
            "train_window_accuracy": round(train_acc, 4), "inner_val_subject_accuracy": float(np.mean(correct)),
            "inner_val_subjects": len(subjects), "cpu_seconds": round(time.process_time() - cpu, 1)}


def main() -> None:
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory(prefix="hgnn_check_") as scratch:
        folder = Path(scratch) / "modma"
        generate("modma", folder, subjects=SUBJECTS, seed=SEED, seconds=SECONDS)
        data, channels, samples = windows(folder)
    runs = []
    for batch in BATCHES:
        runs.append(train(data, channels, samples, batch))
        print(runs[-1], flush=True)
    write_json(Path(__file__).parent / "results" / "hgnn_training_check.json",
               {"what": "HGNN network, plain training loop, calibration draw, inner split: batch 128 vs 16",
                "generator_seed": SEED, "subjects": SUBJECTS, "seconds": SECONDS, "epochs": EPOCHS,
                "training_windows": int(len(data["train"][1])), "runs": runs,
                "load_average_1_5_15_at_end": [round(v, 2) for v in os.getloadavg()]})


if __name__ == "__main__":
    main()
