"""Micro-expression data for the fold runner: the processed clips of one dataset or a composite, with labels.

`MicroExpressionSource` reads `data/processed/<dataset>/` (docs/architecture.md) for every dataset in
`data.sources`, maps each dataset's emotion labels onto the experiment's classes (`data.label_map`; unmapped
emotions are dropped, e.g. CASME II fear/sadness), builds the AU multi-hot over `data.aus`, and loads the arrays
the method declares as inputs once into memory (stand-in and real datasets are a few hundred clips).
`MicroExpressionDataModule` serves one fold's train/val/test samples as dict batches.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import lightning.pytorch as pl
import numpy as np
import pandas as pd
import torch
from torch.utils.data import DataLoader, Dataset

from core.config import PACKAGE_ROOT
from core.errors import DatasetError, MissingStageOutput
from datamodules import controls
from datamodules.protocols import Fold
from datamodules.sampling import EpochSeededSampler
from preprocessing.faces import transform_points
from rawdata.index import au_set, load_index
from rawdata.layouts.composite import KEY, load_sample_list

log = logging.getLogger(__name__)

# input key -> the preprocessing stage whose files hold it
INPUT_STAGES = {
    "image28": "flow",
    "flow": "flow",
    "landmarks": "landmarks",
    "apex": "faces",
    "onset": "faces",
    "frames": "faces",
    "magnified": "magnify",
    "lbptop": "features",
    "hsdg": "features",
}
FRAME_INPUTS = ("apex", "onset", "frames")  # read from faces/, or magnified/ with data.frames_from=magnify
STAGE_DIRS = {
    "faces": "faces", "landmarks": "landmarks", "magnify": "magnified", "flow": "flow", "features": "features"
}
STAGE_SUFFIX = {"faces": ".npz", "landmarks": ".npy", "magnify": ".npz", "flow": ".npz", "features": ".npz"}


@dataclass
class DataInfo:
    """What a method needs to know about the data of one fold (statistics from its TRAINING samples only)."""

    n_classes: int
    class_names: list[str]
    au_names: list[str] = field(default_factory=list)
    input_shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)
    n_train: int = 0
    class_counts: list[int] = field(default_factory=list)
    au_frequency: list[float] = field(default_factory=list)
    au_cooccurrence: list[list[float]] = field(default_factory=list)  # P(AU_j present | AU_i present)
    disguise_classes: list[str] = field(default_factory=list)
    extra: dict = field(default_factory=dict)


class MicroExpressionSource:
    """All usable samples of an experiment's dataset(s) with labels and the declared input arrays."""

    def __init__(self, cfg, inputs: tuple[str, ...], root: Path):
        self.cfg = cfg
        self.inputs = tuple(inputs)
        self.processed_root = root / cfg.data.processed_root
        frames = [self._load_dataset(name) for name in cfg.data.sources]
        index = pd.concat(frames, ignore_index=True)
        if index.empty:
            raise DatasetError(
                f"no usable samples for classes {list(cfg.data.classes)} in {list(cfg.data.sources)}",
                path=self.processed_root,
            )
        self.index = index
        self.standin = bool(index["standin"].all())
        self._truth_cache: dict[Path, dict] = {}
        self.arrays = self._load_inputs()
        self.index, self.arrays = controls.apply(cfg, self.index, self.arrays)

    # -- index ------------------------------------------------------------------------------------------------
    def _load_dataset(self, name: str) -> pd.DataFrame:
        folder = self.processed_root / name
        index = load_index(folder / "index.csv")
        if "standin" not in index:
            index["standin"] = False
        index["standin"] = index["standin"].astype(str).str.lower().isin(["true", "1"])
        if self.cfg.data.sample_list and not index["standin"].all():
            index = self._listed_samples(index, name)
        mapping = dict(self.cfg.data.label_map.get(name, {}))
        classes = list(self.cfg.data.classes)
        emotion = _label_source(index, str(self.cfg.data.get("label_from", "emotion")), folder)
        keep = emotion.isin(list(mapping))
        dropped = int((~keep).sum())
        index = index[keep].copy()
        index["label"] = emotion[keep].map(mapping)
        bad = sorted(set(index["label"]) - set(classes))
        if bad:
            raise DatasetError(f"label_map of {name!r} maps onto {bad}, which are not in data.classes {classes}")
        index["y"] = index["label"].map({c: i for i, c in enumerate(classes)}).astype(int)
        for stage in sorted({self._stage_of(k) for k in self.inputs if k in INPUT_STAGES}):
            index = self._drop_skipped(index, folder, stage)
        if self.cfg.data.disguise_classes:
            index = self._disguise_labels(index, folder)
        log.debug("%s: %d samples (%d with other labels dropped)", name, len(index), dropped)
        return index.reset_index(drop=True)

    def _listed_samples(self, index: pd.DataFrame, name: str) -> pd.DataFrame:
        """A licensed copy enters a composite only with the samples of the shipped list (stand-ins have their own
        clip names, so for them the label mapping alone decides)."""
        listed = load_sample_list(PACKAGE_ROOT / self.cfg.data.sample_list)
        listed = listed[listed["dataset"] == name]
        keep = index[KEY].merge(listed[KEY], on=KEY, how="left", indicator=True)["_merge"].eq("both").to_numpy()
        if keep.sum() < len(listed):
            log.warning("%s: %d samples of %s are not in the processed data", name, len(listed) - keep.sum(),
                        self.cfg.data.sample_list)
        return index[keep]

    def _drop_skipped(self, index: pd.DataFrame, folder: Path, stage: str) -> pd.DataFrame:
        stage_dir = folder / STAGE_DIRS[stage]
        summary = folder / f"{stage}.json"
        if not stage_dir.is_dir():
            raise MissingStageOutput(stage_dir, stage, folder.name)
        skipped = json.loads(summary.read_text()).get("skipped", {}) if summary.is_file() else {}
        present = index["sample_id"].map(lambda s: (stage_dir / f"{s}{STAGE_SUFFIX[stage]}").is_file())
        missing = index.loc[~present, "sample_id"]
        unexplained = sorted(set(missing) - set(skipped))
        if unexplained:
            raise MissingStageOutput(stage_dir / f"{unexplained[0]}{STAGE_SUFFIX[stage]}", stage, folder.name)
        if len(missing):
            log.warning("%s: %d clips skipped by stage %s (%s)", folder.name, len(missing), stage, summary)
        return index[present]

    def _disguise_labels(self, index: pd.DataFrame, folder: Path) -> pd.DataFrame:
        if "disguise" not in index:
            raise DatasetError("data.disguise_classes is set but the index has no `disguise` column",
                               path=folder / "index.csv")
        classes = list(self.cfg.data.disguise_classes)
        unknown = sorted(set(index["disguise"]) - set(classes))
        if unknown:
            raise DatasetError(f"disguise labels {unknown} are not in data.disguise_classes {classes}",
                               path=folder / "index.csv")
        index["y_disguise"] = index["disguise"].map({c: i for i, c in enumerate(classes)}).astype(int)
        return index

    # -- arrays -----------------------------------------------------------------------------------------------
    def _load_inputs(self) -> dict[str, np.ndarray]:
        """Every declared input of every sample; each processed file is opened and decoded once per sample, so
        inputs from the same file (apex, onset and frames all come from the faces stage) cost one read."""
        unknown = [key for key in self.inputs if key not in INPUT_STAGES]
        if unknown:
            raise DatasetError(f"unknown input {unknown[0]!r}; known inputs: {', '.join(INPUT_STAGES)}")
        columns: dict[str, list[np.ndarray]] = {key: [] for key in self.inputs}
        for row in self.index.itertuples(index=False):
            decoded: dict[Path, dict[str, np.ndarray]] = {}
            for key in self.inputs:
                columns[key].append(self._read(key, row, decoded))
        return {key: np.stack(values) for key, values in columns.items()}

    def _stage_of(self, key: str) -> str:
        """The preprocessing stage an input is read from: the frame inputs follow ``data.frames_from``."""
        source = str(self.cfg.data.get("frames_from", "faces"))
        if key in FRAME_INPUTS and source != "faces":
            if source != "magnify":
                raise DatasetError(f"data.frames_from={source!r}: expected faces or magnify")
            return "magnify"
        return INPUT_STAGES[key]

    def _read(self, key: str, row, decoded: dict) -> np.ndarray:
        """One sample's input array; an unreadable file or a NaN/inf value is an error naming the file.
        ``decoded`` holds the sample's files already read (path -> arrays), shared by its inputs."""
        stage = self._stage_of(key)
        path = self.processed_root / row.dataset / STAGE_DIRS[stage] / f"{row.sample_id}{STAGE_SUFFIX[stage]}"
        array = self._read_array(key, row, path, stage, decoded)
        if not np.isfinite(array).all():
            bad = int(np.size(array) - np.isfinite(array).sum())
            raise DatasetError(f"input {key!r} holds {bad} NaN or infinite values (expected finite numbers)",
                               path=path, hint=f"re-run `affect preprocess {stage} {row.dataset}`; if it persists, "
                               "the source frames of this clip are damaged")
        return array

    def _read_array(self, key: str, row, path: Path, stage: str, decoded: dict) -> np.ndarray:
        try:
            if stage == "landmarks":
                seq = self._true_landmarks(row) if self.cfg.data.landmarks == "ground_truth" else np.load(path)
                return _resample(seq, *self._span(row, len(seq)), self.cfg.data.seq_len, linear=True)
            if path not in decoded:
                with np.load(path) as npz:
                    decoded[path] = {name: npz[name] for name in npz.files}
            npz = decoded[path]
            if key in ("image28", "flow"):
                return npz["image28" if key == "image28" else "flow"].astype(np.float32)
            if key in ("lbptop", "hsdg"):
                return npz[key].astype(np.float32)
            frames = npz["frames"]
            if key == "magnified":
                return _resample(frames, *self._span(row, len(frames)), self.cfg.data.seq_len, linear=False)
            numbers = list(npz["frame_numbers"]) if "frame_numbers" in npz else None
            return self._frames_input(key, row, frames, numbers)
        except (OSError, KeyError, ValueError) as err:
            raise DatasetError(f"cannot read input {key!r}: {err}", path=path,
                               hint=f"re-run `affect preprocess {stage} {row.dataset}`") from None

    def _true_landmarks(self, row) -> np.ndarray:
        """A stand-in's true landmarks (the generator's moved points) of the clip's processed frames, in crop
        coordinates: a diagnostic that takes the landmark stage's error out of a landmark method's score."""
        with np.load(self.processed_root / row.dataset / "faces" / f"{row.sample_id}.npz") as clip:
            transform, numbers = clip["transform"], clip["frame_numbers"].tolist()
        entry = self._ground_truth(row)[row.sample_id]
        positions = [entry["frame_numbers"].index(n) for n in numbers]
        return transform_points(np.asarray(entry["landmarks_moved"], dtype=np.float64)[positions],
                                transform).astype(np.float32)

    def _ground_truth(self, row) -> dict:
        folder = next((p for p in Path(row.frame_dir).parents if (p / "ground_truth.json").is_file()), None)
        if folder is None:
            raise DatasetError("data.landmarks=ground_truth needs a stand-in (its ground_truth.json, written by "
                               "`affect synth`); this dataset has none", path=Path(row.frame_dir))
        if folder not in self._truth_cache:
            samples = json.loads((folder / "ground_truth.json").read_text())["samples"]
            self._truth_cache[folder] = {s["sample_id"]: s for s in samples}
        return self._truth_cache[folder]

    def _frames_input(self, key: str, row, frames: np.ndarray, numbers) -> np.ndarray:
        if frames.ndim == 3:  # grey frames (the magnify stage's): one channel
            frames = frames[..., None]
        start, end = self._span(row, len(frames), numbers)
        if key == "apex":
            picked = frames[end]
        elif key == "onset":
            picked = frames[start]
        else:
            picked = _resample(frames, start, end, self.cfg.data.seq_len, linear=False)
        picked = np.moveaxis(picked, -1, -3)  # (..., S, S, 3) -> (..., 3, S, S)
        size = int(self.cfg.data.image_size)
        if size and picked.shape[-1] != size:
            t = torch.from_numpy(picked.reshape(-1, *picked.shape[-3:]).astype(np.float32))
            t = torch.nn.functional.interpolate(t, size=(size, size), mode="bilinear", align_corners=False)
            picked = t.round().clamp(0, 255).to(torch.uint8).numpy().reshape(*picked.shape[:-2], size, size)
        return picked

    def _span(self, row, n_frames: int, numbers=None) -> tuple[int, int]:
        """Positions (in the clip's frame list) of the span's first and last frame."""
        numbers = numbers if numbers is not None else list(row.frame_numbers)
        if len(numbers) != n_frames:
            numbers = list(range(n_frames))
        span = self.cfg.data.span
        if span == "clip":
            return 0, n_frames - 1
        onset = _position(numbers, row.onset)
        last = row.offset if span == "onset_offset" else row.apex
        end = _position(numbers, last) if last >= 0 else (onset + n_frames - 1) // 2
        return onset, max(end, onset)

    # -- folds ------------------------------------------------------------------------------------------------
    def info(self, train_ids) -> DataInfo:
        train = self.index[self.index["sample_id"].isin(set(train_ids))]
        aus = self.au_matrix(train)
        counts = aus.sum(0)
        cooc = (aus.T @ aus) / np.maximum(counts[:, None], 1) if len(aus) else np.zeros((0, 0))
        return DataInfo(
            n_classes=len(self.cfg.data.classes),
            class_names=list(self.cfg.data.classes),
            au_names=list(self.cfg.data.aus),
            input_shapes={k: tuple(v.shape[1:]) for k, v in self.arrays.items()},
            n_train=len(train),
            class_counts=np.bincount(train["y"], minlength=len(self.cfg.data.classes)).tolist(),
            au_frequency=(counts / max(len(train), 1)).tolist(),
            au_cooccurrence=cooc.tolist(),
            disguise_classes=list(self.cfg.data.disguise_classes),
        )

    def au_matrix(self, frame: pd.DataFrame | None = None) -> np.ndarray:
        frame = self.index if frame is None else frame
        names = list(self.cfg.data.aus)
        out = np.zeros((len(frame), len(names)), dtype=np.float32)
        for i, aus in enumerate(frame["aus"]):
            present = au_set(aus)
            out[i] = [n in present for n in names]
        return out

    def datamodule(self, fold: Fold, seed: int) -> MicroExpressionDataModule:
        data = self.cfg.data
        return MicroExpressionDataModule(self, fold, int(data.batch_size), int(data.num_workers), seed)

    def data_files(self) -> list[Path]:
        return [self.processed_root / name / "index.csv" for name in self.cfg.data.sources]


class SampleDataset(Dataset):
    """The samples at ``positions`` of a source, as tensors gathered once per split.

    ``__getitems__`` returns a whole batch at once (PyTorch's map-style fetcher calls it with the batch's indices),
    so a batch costs a few tensor gathers instead of one pandas row per sample; ``batch_identity`` is the loader's
    collate function. Image-like uint8 inputs stay uint8 in memory and become floats in [0, 1] per batch.
    """

    def __init__(self, source: MicroExpressionSource, positions: np.ndarray):
        index = source.index
        self.sample_ids = index["sample_id"].to_numpy()[positions].tolist()
        self.groups = (index["dataset"].astype(str) + "/" + index["subject"].astype(str)).to_numpy()[positions].tolist()
        self.tensors = {"y": torch.as_tensor(index["y"].to_numpy()[positions], dtype=torch.long),
                        "aus": torch.from_numpy(source.au_matrix(index.iloc[positions]))}
        if "y_disguise" in index:
            self.tensors["y_disguise"] = torch.as_tensor(index["y_disguise"].to_numpy()[positions], dtype=torch.long)
        self.inputs = {key: torch.from_numpy(np.ascontiguousarray(arr[positions]))
                       for key, arr in source.arrays.items()}

    def __len__(self) -> int:
        return len(self.sample_ids)

    def __getitems__(self, rows: list[int]) -> dict:
        take = torch.as_tensor(rows, dtype=torch.long)
        batch = {"sample_id": [self.sample_ids[i] for i in rows], "group": [self.groups[i] for i in rows]}
        batch.update({key: value[take] for key, value in self.tensors.items()})
        for key, value in self.inputs.items():
            picked = value[take]
            batch[key] = picked.float() / 255.0 if picked.dtype == torch.uint8 else picked.float()
        return batch

    def __getitem__(self, i: int) -> dict:
        batch = self.__getitems__([i])
        return {k: v[0] for k, v in batch.items()}


def batch_identity(batch: dict) -> dict:
    """The loader's collate function: :meth:`SampleDataset.__getitems__` already returns a batch."""
    return batch


class MicroExpressionDataModule(pl.LightningDataModule):
    def __init__(self, source: MicroExpressionSource, fold: Fold, batch_size: int, num_workers: int, seed: int):
        super().__init__()
        self.source, self.fold = source, fold
        self.batch_size, self.num_workers, self.seed = batch_size, num_workers, seed
        pos = {sid: i for i, sid in enumerate(source.index["sample_id"])}
        self.split = {k: np.array([pos[s] for s in getattr(fold, k)], dtype=int) for k in ("train", "val", "test")}

    def _loader(self, split: str, shuffle: bool) -> DataLoader:
        dataset = SampleDataset(self.source, self.split[split])
        sampler = EpochSeededSampler(len(dataset), self.seed) if shuffle else None
        return DataLoader(dataset, batch_size=self.batch_size, sampler=sampler, num_workers=self.num_workers,
                          collate_fn=batch_identity)

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", shuffle=True)

    def val_dataloader(self) -> DataLoader | list:
        return self._loader("val", shuffle=False) if len(self.split["val"]) else []

    def test_dataloader(self) -> DataLoader:
        return self._loader("test", shuffle=False)

    def predict_dataloader(self) -> DataLoader:
        return self._loader("test", shuffle=False)


def _position(numbers: list[int], frame_number: int) -> int:
    """Index of the frame with this number (or the nearest one)."""
    arr = np.asarray(numbers)
    return int(np.abs(arr - frame_number).argmin())


def _resample(seq: np.ndarray, start: int, end: int, length: int, linear: bool) -> np.ndarray:
    """`length` frames evenly spaced from position start to end (inclusive)."""
    t = np.linspace(start, end, length)
    if not linear:
        return seq[np.round(t).astype(int)]
    lo = np.floor(t).astype(int)
    hi = np.minimum(lo + 1, len(seq) - 1)
    w = (t - lo).reshape(-1, *([1] * (seq.ndim - 1)))
    return ((1 - w) * seq[lo] + w * seq[hi]).astype(np.float32)


OBJECTIVE_NAMES = {1: "i", 2: "ii", 3: "iii", 4: "iv", 5: "v", 6: "vi", 7: "vii"}


def _label_source(index: pd.DataFrame, label_from: str, folder: Path) -> pd.Series:
    """The lower-case label each clip is mapped from: its `emotion`, or (MEGC2018, `data.label_from:
    objective_class`) its objective class "i".."vii" (Davison et al. 2018) derived from the index's `aus`."""
    if label_from == "emotion":
        return index["emotion"].str.lower()
    if label_from != "objective_class":
        raise DatasetError(f"data.label_from={label_from!r}: expected emotion or objective_class")
    if "aus" not in index:
        raise DatasetError("data.label_from=objective_class needs the index's `aus` column", path=folder / "index.csv")
    from rawdata.synth.aus import objective_class

    codes = index["aus"].fillna("").astype(str).map(lambda a: [c for c in a.split("+") if c.strip()])
    return codes.map(lambda c: OBJECTIVE_NAMES[objective_class(c)]).astype(str)
