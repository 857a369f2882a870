"""MPT on the composite stand-in (issue 19): LOSO UF1/UAR, time, parameters, FLOPs of lightning_modules/mpt.

Two steps, so the scoring can run on a machine without the processed data:

* ``--prepare FILE``: from data/processed (faces + index), the onset->apex DIS flow image (u, v, strain; 28 px,
  the motion input) and the 28 px apex grey frame (replicated to 3 channels), labels and LOSO groups -> FILE.npz.
* ``--run FILE``: LOSO over (dataset, subject) for each a-priori variant (all reported, none chosen on test folds):
  ``frame+motion`` (apex frame tokens + Gaussian motion prompts, patch 4) and ``motion-only`` (flow image as the
  ViT's image and as the prompt source, patch 4). Fixed a priori: ViT dim 96, depth 4, 4 heads, 8 prompts,
  adapter 32/4 groups, Adam lr 1e-3, 30 epochs, batch 64, last epoch (no model selection). The ViT is RANDOMLY
  INITIALISED (no pretrained checkpoint can be downloaded here): these are not MPT's published conditions.
Writes benchmarks/results/mpt.json.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results" / "mpt.json"
VARIANTS = {"frame+motion": {"use_frame": True}, "motion-only": {"use_frame": False}}


def prepare(out: Path) -> None:
    import cv2

    from benchmarks.low_resolution import load_inputs
    from preprocessing import flow

    cfg, index, _, pairs = load_inputs(REPO)
    motion = np.stack([flow.onset_apex_flow(p[0], p[1], "dis", 28, preset="medium")["image28"] for p in pairs])
    apex = np.stack([cv2.resize(p[1].astype(np.float32) / 255.0, (28, 28), interpolation=cv2.INTER_AREA)
                     for p in pairs])
    groups = (index["dataset"] + "/" + index["subject"].astype(str)).to_numpy()
    np.savez_compressed(out, motion=motion.astype(np.float32), apex=np.repeat(apex[:, None], 3, 1),
                        y=index["y"].to_numpy(), groups=groups.astype(str), classes=np.array(list(cfg.data.classes)))


def uf1_uar(y, pred, k):
    f1, rec = [], []
    for c in range(k):
        tp = np.sum((pred == c) & (y == c))
        fp, fn = np.sum((pred == c) & (y != c)), np.sum((pred != c) & (y == c))
        f1.append(2 * tp / max(1, 2 * tp + fp + fn))
        rec.append(tp / max(1, tp + fn))
    return float(np.mean(f1)), float(np.mean(rec))


def run(path: Path, epochs: int, device: str) -> dict:
    from lightning_modules.mpt.network import MPT

    d = np.load(path)
    motion, apex, y, groups = (torch.from_numpy(d["motion"]), torch.from_numpy(d["apex"]),
                               torch.from_numpy(d["y"]).long(), d["groups"])
    k = len(d["classes"])
    out = {"stand_in": True, "backbone": "randomly initialised ViT (no pretrained checkpoint)", "epochs": epochs,
           "n_samples": int(len(y)), "variants": {}}
    majority = np.full(len(y), np.bincount(y.numpy()).argmax())
    out["majority"] = dict(zip(("uf1", "uar"), uf1_uar(y.numpy(), majority, k)))
    m, a = motion.to(device), apex.to(device)
    yd = y.to(device)
    for name, knobs in VARIANTS.items():
        started = time.perf_counter()
        pred = np.full(len(y), -1)
        for i, g in enumerate(sorted(set(groups))):
            te = np.flatnonzero(groups == g)
            tr = torch.as_tensor(np.flatnonzero(groups != g), device=device)
            torch.manual_seed(i)
            net = MPT(k, **knobs).to(device)
            opt = torch.optim.Adam([p for p in net.parameters() if p.requires_grad], lr=1e-3)
            for _ in range(epochs):
                net.train()
                for b in tr[torch.randperm(len(tr), device=device)].split(64):
                    loss = torch.nn.functional.cross_entropy(net(m[b], a[b]), yd[b])
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
            net.eval()
            with torch.no_grad():
                pred[te] = net(m[te], a[te]).argmax(1).cpu().numpy()
        uf1, uar = uf1_uar(y.numpy(), pred, k)
        net = MPT(k, **knobs)
        entry = {"uf1": round(uf1, 4), "uar": round(uar, 4), "seconds": round(time.perf_counter() - started, 1),
                 "parameters": int(sum(p.numel() for p in net.parameters())), "device": device}
        try:
            from torch.utils.flop_counter import FlopCounterMode

            with FlopCounterMode(display=False) as counter:
                net(motion[:1], apex[:1])
            entry["flops_per_sample"] = int(counter.get_total_flops())
        except Exception as error:  # noqa: BLE001
            entry["flops_error"] = str(error)[:200]
        out["variants"][name] = entry
        print(name, entry, flush=True)
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--prepare", type=Path)
    parser.add_argument("--run", type=Path)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if args.prepare:
        prepare(args.prepare)
    if args.run:
        device = "cuda" if torch.cuda.is_available() else "cpu"
        result = run(args.run, args.epochs, device)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
