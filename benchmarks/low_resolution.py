"""Low-resolution study (issue 19): degrade the aligned face clips, restore them with each super-resolution method,
recompute the downstream features and score LBP-TOP + linear SVM and STSTNet, LOSO on the MEGC2019 composite.

Resolutions: 128 px (the crop, no degradation) and 64 / 32 / 16 px (factors 2 / 4 / 8, preprocessing/degrade.py
defaults: anti-alias blur 0.3 * factor, no noise). Every degraded clip is restored to 128 px by bicubic, Lanczos,
SRCNN and ESPCN (preprocessing/super_resolution.py) before the features are recomputed.

What is degraded (choices, fixed a priori):

* LBP-TOP: the features stage's 10-frame interpolated clip (``features/<id>.npz:interp``, i.e. the aligned face
  clip after magnification and temporal interpolation) is degraded and restored, then LBP-TOP is recomputed with
  params.yaml's knobs. Degrading before magnification would need the magnify stage per condition (too slow on CPU).
* STSTNet: the onset and apex grey frames of the aligned faces (``faces/<id>.npz``) are degraded and restored;
  flow is recomputed with OpenCV DIS (preset ``medium``, a speed choice: the suite's default is TV-L1) and the 28 px
  (u, v, strain) image feeds STSTNet, trained in a plain loop (Adam, lr and epochs of the method's ``quick``
  profile, batch 64, last epoch; no model selection), so the 128 px point is this harness's own, not the suite's.

Learned SR networks are trained HERE, never downloaded, with a two-way cross-fit over subjects: the
(dataset, subject) pairs are split into two disjoint halves (alternating in sorted order); the network trained on
the frames of one half restores the clips of the other half, so no clip is restored by a network that saw its
subject. SR training is label-free. LBP-TOP scoring as benchmarks/calibrate.py (fit_dual_squared_hinge, C from the
experiment). All figures are on the synthetic stand-in, not the licensed data.

Usage: python benchmarks/low_resolution.py [--factors 2 4 8] [--methods bicubic lanczos srcnn espcn] [--sr-steps 300]
Writes benchmarks/results/low_resolution.json (one entry per (resolution, SR method)) and low_resolution.png.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results" / "low_resolution.json"
SIZE = 128


def load_inputs(root: Path):
    from omegaconf import OmegaConf

    from datamodules.micro_expression import MicroExpressionSource
    from experiments.config import load_experiment
    from preprocessing import landmarks
    from preprocessing.stages import onset_apex_positions

    cfg = load_experiment("lbptop_svm/composite", (), params=OmegaConf.create({}))
    source = MicroExpressionSource(cfg, ("lbptop",), root)
    index = source.index.reset_index(drop=True)
    interp, pairs = [], []
    for row in index.to_dict("records"):
        folder = root / "data" / "processed" / row["dataset"]
        with np.load(folder / "features" / f"{row['sample_id']}.npz") as f:
            interp.append(f["interp"])
        with np.load(folder / "faces" / f"{row['sample_id']}.npz") as f:
            frames, numbers = f["frames"], f["frame_numbers"].tolist()
        onset, apex = onset_apex_positions(row, numbers)
        pairs.append(np.stack([landmarks.to_gray(frames[onset]), landmarks.to_gray(frames[apex])]))
    return cfg, index, np.stack(interp), np.stack(pairs)


def halves(index) -> np.ndarray:
    keys = sorted({(d, str(s)) for d, s in zip(index["dataset"], index["subject"])})
    half = {k: i % 2 for i, k in enumerate(keys)}
    return np.array([half[(d, str(s))] for d, s in zip(index["dataset"], index["subject"])])


def restore_all(clips: np.ndarray, factor: int, method: str, part: np.ndarray, sr_steps: int, seed: int):
    """Degrade (N, T, H, W) clips by ``factor`` and restore them with ``method`` (learned: cross-fit halves)."""
    from preprocessing.degrade import degrade_clip
    from preprocessing.super_resolution import LEARNED, restore_clip, train_sr

    if factor == 1:
        return clips.copy(), {}
    low = np.stack([degrade_clip(c, factor, seed=seed + i) for i, c in enumerate(clips)])
    out = np.empty_like(clips)
    info = {}
    if method not in LEARNED:
        for i, c in enumerate(low):
            out[i] = restore_clip(c, clips.shape[2:], method)
        return out, info
    for h in (0, 1):
        train_frames = clips[part == h].reshape(-1, *clips.shape[2:])
        started = time.perf_counter()
        net, losses = train_sr(train_frames, method, factor, steps=sr_steps, seed=seed + h)
        info[f"half{h}"] = {"train_loss_first": round(losses[0], 5), "train_loss_last": round(float(np.mean(
            losses[-20:])), 5), "seconds": round(time.perf_counter() - started, 1)}
        for i in np.flatnonzero(part != h):
            out[i] = restore_clip(low[i], clips.shape[2:], method, net)
    return out, info


def score_lbptop(cfg, index, clips) -> dict:
    from core import metrics as M
    from datamodules.protocols import make_folds
    from lightning_modules.layers.svm import fit_dual_squared_hinge
    from preprocessing import lbptop

    knobs = _lbp_knobs()
    x = np.stack([lbptop.lbp_top(c, tuple(knobs["blocks"]), knobs["radius"], knobs["radius_t"], knobs["n_points"])
                  for c in clips]).astype(np.float64)
    y = index["y"].to_numpy()
    position = {s: i for i, s in enumerate(index["sample_id"])}
    pred = np.full(len(index), -1)
    for fold in make_folds(index, cfg.protocol, seed=0):
        tr = np.array([position[s] for s in fold.train])
        te = np.array([position[s] for s in fold.test])
        xt, xe = x[tr], x[te]
        if bool(cfg.model.standardize):
            m, s = xt.mean(0), np.maximum(xt.std(0, ddof=1), 1e-6)
            xt, xe = (xt - m) / s, (xe - m) / s
        coef = fit_dual_squared_hinge(xt @ xt.T, y[tr], len(cfg.data.classes), float(cfg.model.c))
        pred[te] = ((xe @ xt.T + 1.0) @ coef).argmax(1)
    r = M.classification_report(y, pred, list(cfg.data.classes))
    return {"uf1": round(float(r["uf1"]), 4), "uar": round(float(r["uar"]), 4)}


def _lbp_knobs() -> dict:
    import yaml

    params = yaml.safe_load((REPO / "params.yaml").read_text(encoding="utf-8"))
    return params["preprocess"]["features"]["lbptop"]


def score_ststnet(cfg, index, pairs, epochs: int, lr: float, seed: int) -> dict:
    from core import metrics as M
    from datamodules.protocols import make_folds
    from lightning_modules.ststnet.network import STSTNet
    from preprocessing import flow

    images = np.stack([flow.onset_apex_flow(p[0], p[1], "dis", 28, preset="medium")["image28"] for p in pairs])
    x_all = torch.from_numpy(images.astype(np.float32))
    y_all = torch.from_numpy(index["y"].to_numpy().copy()).long()
    position = {s: i for i, s in enumerate(index["sample_id"])}
    pred = np.full(len(index), -1)
    n_classes = len(cfg.data.classes)
    for k, fold in enumerate(make_folds(index, cfg.protocol, seed=0)):
        tr = torch.as_tensor([position[s] for s in fold.train])
        te = np.array([position[s] for s in fold.test])
        torch.manual_seed(seed + k)
        net = STSTNet(n_classes)
        opt = torch.optim.Adam(net.parameters(), lr=lr)
        for _ in range(epochs):
            net.train()
            for b in torch.randperm(len(tr)).split(64):
                idx = tr[b]
                loss = torch.nn.functional.cross_entropy(net(x_all[idx]), y_all[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
        net.eval()
        with torch.no_grad():
            pred[te] = net(x_all[te]).argmax(1).numpy()
    r = M.classification_report(index["y"].to_numpy(), pred, list(cfg.data.classes))
    return {"uf1": round(float(r["uf1"]), 4), "uar": round(float(r["uar"]), 4)}


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4), sharey=True)
    for ax, model in zip(axes, ("lbptop_svm", "ststnet")):
        for method in ("bicubic", "lanczos", "srcnn", "espcn"):
            pts = sorted((e["resolution"], e[model]["uf1"]) for e in results["runs"]
                         if model in e and (e["sr"] == method or e["resolution"] == SIZE))
            if len(pts) > 1:
                ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=method)
        ax.set_xscale("log", base=2)
        ax.set_xticks([16, 32, 64, 128], labels=["16", "32", "64", "128"])
        ax.set_xlabel("face resolution (px)")
        ax.set_title(f"{model} (stand-in)")
    axes[0].set_ylabel("composite UF1 (LOSO)")
    if axes[0].get_legend_handles_labels()[0]:
        axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--factors", type=int, nargs="+", default=[2, 4, 8])
    parser.add_argument("--methods", nargs="+", default=["bicubic", "espcn", "srcnn", "lanczos"])
    parser.add_argument("--sr-steps", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--root", type=Path, default=REPO)
    parser.add_argument("--skip-ststnet", action="store_true")
    parser.add_argument("--out", type=Path, default=RESULTS, help="JSON path (the figure goes next to it, .png)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    from omegaconf import OmegaConf

    from experiments.config import load_experiment

    st_cfg = load_experiment("ststnet/composite", (), profile="quick", params=OmegaConf.create({}))
    epochs = int(st_cfg.trainer.max_epochs)
    lr = float(st_cfg.optim.lr)
    cfg, index, interp, pairs = load_inputs(args.root)
    part = halves(index)
    results = {"stand_in": True, "n_samples": int(len(index)), "sr_training": "two-way subject cross-fit",
               "ststnet": {"epochs": epochs, "lr": lr, "flow": "dis/medium"}, "runs": []}
    conditions = [(1, "none")] + [(f, m) for m in args.methods for f in args.factors]
    for factor, method in conditions:
        started = time.perf_counter()
        entry = {"resolution": SIZE // factor, "factor": factor, "sr": method}
        clips, info = restore_all(interp, factor, method, part, args.sr_steps, args.seed)
        entry["sr_info"] = info
        entry["lbptop_svm"] = score_lbptop(cfg, index, clips)
        if not args.skip_ststnet:
            restored, _ = restore_all(pairs, factor, method, part, args.sr_steps, args.seed)
            entry["ststnet"] = score_ststnet(cfg, index, restored, epochs, lr, args.seed)
        entry["seconds"] = round(time.perf_counter() - started, 1)
        results["runs"].append(entry)
        print(json.dumps(entry), flush=True)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=1) + "\n")
        plot(results, args.out.with_suffix(".png"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
