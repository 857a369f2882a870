"""Micro-gesture skeleton data for the fold runner: one cross-subject split read straight from the release arrays.

`GestureSource` is what `data.source` names for the gesture datasets (microgesture stand-in, iMiGUE, SMG). It
parses the release folder `data.root` in layout `data.format` (:mod:`rawdata.layouts.imigue` / ``smg``),
keeps the samples whose label is one of `data.classes`, loads their arrays once (a few thousand clips of
3 x T x V floats) and normalises them (:func:`normalise_skeletons`). The protocol is `split`: the release's own
train / (val) / test files are the cross-subject split (iMiGUE: different players; SMG: subjects 36-40 held out).

`GestureDataModule` serves a fold as dict batches (docs/architecture.md): ``skeleton`` (B, C, T, V, M) float,
``y`` (B,) long, ``sample_id`` list of str.

Choices where the papers are silent (each a `data.*` knob):

- ``normalise: center_scale`` subtracts the centre joint's mean position over the clip (neck for iMiGUE, spine
  shoulder for SMG) and divides by the mean shoulder width, so subjects at different distances from the camera
  look alike; the relative motion inside the clip is kept. ``none`` leaves the raw values (pixels / metres).
  Joints OpenPose did not detect (confidence 0, written as x = y = 0) are set to the centre after normalising;
  their confidence channel stays 0 so a model can tell.
- ``frames: 0`` keeps the release's T; a positive value resamples every clip linearly to that many frames.
- ``augment_scale`` / ``augment_shift`` (training only): a random per-sample scale factor in 1 +- s and shift
  in +- d shoulder widths (0.1 and 0.1 in the gesture dataset defaults; 0 turns them off).
"""

from __future__ import annotations

import logging
from pathlib import Path

import lightning.pytorch as pl
import numpy as np
import pandas as pd
import torch
from torch.utils.data import DataLoader, Dataset

from core.errors import DatasetError
from datamodules import controls
from datamodules.micro_expression import DataInfo
from datamodules.protocols import Fold
from rawdata.datasets import FORMATS
from rawdata.index import is_standin
from rawdata.layouts import layout_module
from rawdata.layouts.skeleton_arrays import SkeletonLayout, load_samples, parse_release

log = logging.getLogger(__name__)

NORMALISATIONS = ("center_scale", "none")


def skeleton_formats() -> list[str]:
    """The declared formats whose parser module defines a skeleton ``LAYOUT`` (imigue, smg, ...)."""
    return [f for f in sorted(FORMATS) if isinstance(getattr(layout_module(f), "LAYOUT", None), SkeletonLayout)]


def layout_of(name: str) -> SkeletonLayout:
    """The skeleton layout of format ``name``: the ``LAYOUT`` of its parser module (rawdata/layouts/<name>.py)."""
    layout = getattr(layout_module(name), "LAYOUT", None) if name in FORMATS else None
    if not isinstance(layout, SkeletonLayout):
        raise DatasetError(f"unknown skeleton layout {name!r}; known: {', '.join(skeleton_formats())}")
    return layout


def normalise_skeletons(arrays: np.ndarray, layout: SkeletonLayout, method: str = "center_scale") -> np.ndarray:
    """Centre and scale (N, C, T, V, M) skeletons per clip (see module docstring); returns a new float32 array."""
    if method not in NORMALISATIONS:
        raise DatasetError(f"data.normalise must be one of {NORMALISATIONS}, got {method!r}")
    out = np.array(arrays, dtype=np.float32, copy=True)
    if method == "none":
        return out
    n_coords = 2 if layout.channels[-1] == "confidence" else len(layout.channels)
    coords = out[:, :n_coords]  # (N, c, T, V, M) view
    detected = np.abs(coords).sum(1) > 0  # (N, T, V, M)
    center = _masked_mean(coords[:, :, :, layout.center_joint], detected[:, :, layout.center_joint])  # (N, c, M)
    left, right = layout.shoulder_joints
    both = detected[:, :, left] & detected[:, :, right]
    width = np.linalg.norm(coords[:, :, :, left] - coords[:, :, :, right], axis=1)  # (N, T, M)
    scale = (width * both).sum(1) / np.maximum(both.sum(1), 1)  # (N, M)
    scale = np.where(scale > 1e-6, scale, 1.0)
    coords -= center[:, :, None, None, :]
    coords /= scale[:, None, None, None, :]
    coords *= detected[:, None]
    return out


def _masked_mean(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Mean over T of (N, c, T, M) values where mask (N, T, M) holds; 0 where it never does."""
    weights = mask[:, None].astype(np.float32)
    return (values * weights).sum(2) / np.maximum(weights.sum(2), 1)


def resample_frames(arrays: np.ndarray, frames: int) -> np.ndarray:
    """Linear resampling of (N, C, T, V, M) along T to ``frames`` frames."""
    length = arrays.shape[2]
    if frames <= 0 or frames == length:
        return arrays
    t = np.linspace(0, length - 1, frames)
    lo = np.floor(t).astype(int)
    hi = np.minimum(lo + 1, length - 1)
    w = (t - lo)[None, None, :, None, None].astype(np.float32)
    return (1 - w) * arrays[:, :, lo] + w * arrays[:, :, hi]


class GestureSource:
    """The samples of one skeleton release with labels in `data.classes`, arrays normalised and in memory."""

    def __init__(self, cfg, inputs: tuple[str, ...], root: Path):
        self.cfg = cfg
        self.inputs = tuple(inputs)
        self.layout = layout_of(str(cfg.data.format))
        self.root_dir = (Path(root) / str(cfg.data.root)).resolve()
        parsed = parse_release(self.root_dir, self.layout, dataset=str(cfg.dataset))
        if parsed.errors:
            listed = "; ".join(str(p) for p in parsed.errors[:3])
            raise DatasetError(f"{len(parsed.errors)} problems in the dataset: {listed}", path=self.root_dir,
                               hint=f"run `affect data check {cfg.data.format} --root {self.root_dir}`")
        self.index = self._labelled(parsed.index)
        self.standin = is_standin(self.root_dir)
        arrays = load_samples(self.index, self.layout)
        arrays = normalise_skeletons(arrays, self.layout, str(cfg.data.normalise))
        self.arrays = {"skeleton": resample_frames(arrays, int(cfg.data.frames)).astype(np.float32)}
        self.index, self.arrays = controls.apply(cfg, self.index, self.arrays)

    def _labelled(self, index: pd.DataFrame) -> pd.DataFrame:
        classes = list(self.cfg.data.classes)
        keep = index["label"].between(0, len(classes) - 1)
        if (~keep).any():
            log.warning("%s: %d samples with labels outside data.classes dropped", self.root_dir, int((~keep).sum()))
        index = index[keep].reset_index(drop=True).copy()
        if index.empty:
            raise DatasetError(f"no samples with labels 0..{len(classes) - 1}", path=self.root_dir)
        index["y"] = index["label"].astype(int)
        index["class_name"] = index["y"].map(dict(enumerate(classes)))
        return index

    def info(self, train_ids) -> DataInfo:
        train = self.index[self.index["sample_id"].isin(set(train_ids))]
        classes = list(self.cfg.data.classes)
        return DataInfo(
            n_classes=len(classes),
            class_names=classes,
            input_shapes={k: tuple(v.shape[1:]) for k, v in self.arrays.items()},
            n_train=len(train),
            class_counts=np.bincount(train["y"], minlength=len(classes)).tolist(),
            extra={"skeleton_layout": self.layout, "text_set": str(self.cfg.data.text_set)},
        )

    def datamodule(self, fold: Fold, seed: int) -> GestureDataModule:
        return GestureDataModule(self, fold, seed)

    def data_files(self) -> list[Path]:
        files = sorted({Path(f) for f in self.index["data_file"]})
        labels = [f.with_name(f.name.replace("_data.npy", "_label.json")) for f in files]
        return files + [f for f in labels if f.is_file()]


class SkeletonDataset(Dataset):
    """Samples at ``positions`` of a source; training copies get the random scale/shift augmentation."""

    def __init__(self, source: GestureSource, positions: np.ndarray, augment: bool, seed: int):
        self.source, self.positions = source, positions
        self.scale = float(source.cfg.data.augment_scale) if augment else 0.0
        self.shift = float(source.cfg.data.augment_shift) if augment else 0.0
        self.rng = np.random.default_rng(seed)
        self.n_coords = 2 if source.layout.channels[-1] == "confidence" else len(source.layout.channels)

    def __len__(self) -> int:
        return len(self.positions)

    def __getitem__(self, i: int) -> dict:
        p = int(self.positions[i])
        skeleton = torch.from_numpy(self.source.arrays["skeleton"][p].copy())
        if self.scale or self.shift:
            factor = 1.0 + self.rng.uniform(-self.scale, self.scale)
            offset = torch.from_numpy(self.rng.uniform(-self.shift, self.shift, self.n_coords).astype(np.float32))
            skeleton[: self.n_coords] = skeleton[: self.n_coords] * factor + offset[:, None, None, None]
        row = self.source.index.iloc[p]
        return {"sample_id": row.sample_id, "y": torch.tensor(int(row.y)), "skeleton": skeleton}


class GestureDataModule(pl.LightningDataModule):
    """One fold's train / val / test samples as dict batches (`skeleton`, `y`, `sample_id`)."""

    def __init__(self, source: GestureSource, fold: Fold, seed: int):
        super().__init__()
        self.source, self.fold, self.seed = source, fold, seed
        self.batch_size = int(source.cfg.data.batch_size)
        self.num_workers = int(source.cfg.data.num_workers)
        pos = {sid: i for i, sid in enumerate(source.index["sample_id"])}
        self.split = {k: np.array([pos[s] for s in getattr(fold, k)], dtype=int) for k in ("train", "val", "test")}

    def _loader(self, split: str, train: bool) -> DataLoader:
        dataset = SkeletonDataset(self.source, self.split[split], augment=train, seed=self.seed)
        generator = torch.Generator().manual_seed(self.seed)
        return DataLoader(dataset, batch_size=self.batch_size, shuffle=train, num_workers=self.num_workers,
                          generator=generator)

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", train=True)

    def val_dataloader(self) -> DataLoader | list:
        return self._loader("val", train=False) if len(self.split["val"]) else []

    def test_dataloader(self) -> DataLoader:
        return self._loader("test", train=False)

    def predict_dataloader(self) -> DataLoader:
        return self._loader("test", train=False)
