"""A tiny processed micro-expression dataset written in the layout of docs/architecture.md.

Used to test the runner and datamodules without running the (slower) image stages: arrays carry a
class-dependent signal plus noise so a working pipeline scores above chance and a broken one does not.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from core.io import write_json, write_npy, write_npz
from rawdata.index import save_index

EMOTIONS = ("happiness", "surprise", "disgust", "repression", "others")


def write_processed(root: Path, dataset: str = "casme2", subjects: int = 4, clips: int = 6, seed: int = 0,
                    signal: float = 2.0, emotions=EMOTIONS, lbptop_dim: int = 40, frames: int = 6,
                    crop: int = 16) -> Path:
    rng = np.random.default_rng(seed)
    folder = root / "data" / "processed" / dataset
    rows = []
    for s in range(1, subjects + 1):
        for c in range(clips):
            emotion = emotions[(s + c) % len(emotions)]
            y = emotions.index(emotion)
            sid = f"{dataset}_{s}_EP{c:02d}"
            rows.append({
                "sample_id": sid, "dataset": dataset, "subject": str(s), "clip": f"EP{c:02d}",
                "onset": 1, "apex": 3, "offset": frames, "apex_estimated": False,
                "aus": "+".join(["12"] if y == 0 else ["1", "2"] if y == 1 else ["4"]), "emotion": emotion,
                "frame_dir": str(folder), "frames": [f"img{i}.jpg" for i in range(1, frames + 1)],
                "frame_numbers": list(range(1, frames + 1)), "standin": True,
            })
            image = rng.normal(size=(3, 28, 28)).astype(np.float32)
            image[y % 3, y * 5:(y * 5) + 5, :] += signal
            write_npz(folder / "flow" / f"{sid}.npz", image28=image, flow=image[:2], strain=image[2])
            lbptop = rng.random(lbptop_dim).astype(np.float32)
            lbptop[y * 4:(y * 4) + 4] += signal
            write_npz(folder / "features" / f"{sid}.npz", lbptop=lbptop,
                      hsdg=rng.random((18, 8)).astype(np.float32))
            marks = np.tile(rng.random((1, 68, 2)) * crop, (frames, 1, 1)).astype(np.float32)
            marks[2:, 48:68, 1] += 0.5 * signal * (y + 1)
            write_npy(folder / "landmarks" / f"{sid}.npy", marks)
            faces = (rng.random((frames, crop, crop, 3)) * 255).astype(np.uint8)
            write_npz(folder / "faces" / f"{sid}.npz", frames=faces, frame_numbers=np.arange(1, frames + 1),
                      transform=np.eye(2, 3))
    index = pd.DataFrame(rows)
    save_index(index, folder / "index.csv")
    for stage in ("faces", "landmarks", "flow", "features"):
        write_json(folder / f"{stage}.json", {"n_done": len(rows), "n_skipped": 0, "skipped": {}})
    return folder


def write_params(root: Path, profile: str = "default") -> Path:
    path = root / "params.yaml"
    path.write_text(json.dumps({"profile": profile, "tracking": {"uri": f"sqlite:///{root / 'mlflow.db'}"}}))
    return path
