"""The skeleton-array release layout shared by iMiGUE and SMG (the ST-GCN family of loaders).

Both micro-gesture datasets are distributed, as far as public loaders show it (the authors' ST-GCN code for SMG
and iMiGUE and the MiGA 2023 challenge solutions), as one pair of files per split in one folder::

    <root>/<split>_data.npy    float32 (N, C, T, V, M): C channels, T frames, V joints, M bodies (M = 1)
    <root>/<split>_label.pkl   a pickle of (sample_names: list[str], labels: list[int]), labels 0-based

with ``split`` in ``train``, ``test`` (and, in some copies, ``val``/``valid``). Sample ``i`` of the label file is
row ``i`` of the array. The split files ARE the cross-subject protocol: train and test hold different people.

Pickles are never read here. ``affect data convert <root>/<split>_label.pkl <root>/<split>_label.json`` turns one
into ``[sample_names, labels]`` JSON (or ``sample_name,label`` CSV) once (:mod:`rawdata.convert`); this parser
reads ``<split>_label.json`` or ``<split>_label.csv`` and tells the user to convert when only the pickle exists.
Arrays are opened with ``allow_pickle=False`` and memory-mapped, so a large release is not read until a sample is.

The dataset-specific parts (joint names, graph edges, channel meaning, how a sample name encodes the subject) are
a :class:`SkeletonLayout`, defined in :mod:`rawdata.layouts.imigue` and :mod:`rawdata.layouts.smg`.
:func:`parse_release` turns a folder into a :class:`~rawdata.layouts.common.ParseResult`: the gesture index
(one row per sample, columns :data:`INDEX_COLUMNS`) and every problem found. Errors (the dataset is not usable):
a missing train or test split, labels outside the layout's classes, duplicate sample names, non-finite values.
Warnings: a subject in both train and test (the split would not be cross-subject), samples whose joints are all
zero (nothing detected). :func:`write_release` is the writer twin (used by the stand-in generator and tests).
"""

from __future__ import annotations

import json
import pickle
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from core.errors import DatasetError
from core.io import atomic_path, write_csv, write_npy, write_text
from rawdata.index import make_sample_id
from rawdata.layouts.common import ParseResult, Problems, require_root

SPLIT_ALIASES = {"train": ("train",), "val": ("val", "valid", "validate"), "test": ("test",)}
REQUIRED_SPLITS = ("train", "test")
LABEL_SUFFIXES = (".json", ".csv")
INDEX_COLUMNS = ("sample_id", "dataset", "subject", "clip", "split", "label", "data_file", "row")


@dataclass(frozen=True)
class SkeletonLayout:
    """What differs between skeleton releases that share the array layout.

    ``subject_of`` maps a sample name to ``(subject, clip)`` (raising ValueError for a name it cannot read);
    ``center_joint`` and ``shoulder_joints`` are used to normalise position and scale; ``body_parts`` groups joints
    for part-level features (FG-SGL's local motion features).
    """

    dataset: str
    joints: tuple[str, ...]
    edges: tuple[tuple[int, int], ...]
    channels: tuple[str, ...]
    nominal_frames: int
    n_classes: int
    subject_of: Callable[[str], tuple[str, str]]
    center_joint: int
    shoulder_joints: tuple[int, int]
    body_parts: dict[str, tuple[int, ...]] = field(default_factory=dict)

    @property
    def n_joints(self) -> int:
        return len(self.joints)


# -- reading ----------------------------------------------------------------------------------------------------
def split_files(root: Path, split: str) -> tuple[Path, Path] | None:
    """``(<alias>_data.npy, <alias>_label.{json,csv})`` of a split, None when the split is absent.

    Raises DatasetError when the arrays exist but only a pickled label file does (it must be converted first).
    """
    for alias in SPLIT_ALIASES[split]:
        data = root / f"{alias}_data.npy"
        if not data.is_file():
            continue
        for suffix in LABEL_SUFFIXES:
            label = root / f"{alias}_label{suffix}"
            if label.is_file():
                return data, label
        pickled = root / f"{alias}_label.pkl"
        if pickled.is_file():
            raise DatasetError(
                "labels are only available as a pickle, which is never loaded directly",
                path=pickled,
                hint=f"convert it once: affect data convert {pickled} {pickled.with_suffix('.json')}",
            )
        raise DatasetError(f"no label file next to {data.name}", path=root / f"{alias}_label.json",
                           hint="expected <split>_label.json or .csv (or a .pkl to convert)")
    return None


def read_label_file(path: Path) -> tuple[list[str], list[int]]:
    """Sample names and integer labels from ``[names, labels]`` JSON (or ``{"sample_names", "labels"}``) or CSV."""
    if path.suffix == ".csv":
        table = pd.read_csv(path, dtype={"sample_name": str})
        missing = {"sample_name", "label"} - set(table.columns)
        if missing:
            raise DatasetError(f"missing columns {sorted(missing)}; expected sample_name,label", path=path)
        names, labels = table["sample_name"].tolist(), table["label"].tolist()
    else:
        try:
            content = json.loads(path.read_text())
        except json.JSONDecodeError as err:
            raise DatasetError(f"not valid JSON: {err}", path=path) from None
        if isinstance(content, dict) and {"sample_names", "labels"} <= set(content):
            names, labels = content["sample_names"], content["labels"]
        elif isinstance(content, list) and len(content) == 2 and all(isinstance(p, list) for p in content):
            names, labels = content
        else:
            raise DatasetError("expected [sample_names, labels] (a converted release pickle)", path=path)
    if len(names) != len(labels):
        raise DatasetError(f"{len(names)} sample names but {len(labels)} labels", path=path)
    return [str(n) for n in names], [_as_label(v, path, i) for i, v in enumerate(labels)]


def _as_label(value, path: Path, row: int) -> int:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise DatasetError(f"row {row}: label {value!r} is not an integer", path=path) from None
    if not number.is_integer():
        raise DatasetError(f"row {row}: label {value!r} is not an integer", path=path)
    return int(number)


def open_skeletons(path: Path, layout: SkeletonLayout) -> np.ndarray:
    """The memory-mapped (N, C, T, V, M) array of a split, checked against the layout."""
    try:
        array = np.load(path, mmap_mode="r", allow_pickle=False)
    except ValueError as err:
        raise DatasetError(f"not a plain numeric .npy array: {err}", path=path) from None
    expected = f"(N, {len(layout.channels)}, T, {layout.n_joints}, M)"
    if array.ndim != 5 or array.shape[1] != len(layout.channels) or array.shape[3] != layout.n_joints:
        raise DatasetError(f"array of shape {array.shape}; {layout.dataset} arrays are {expected}", path=path)
    if array.dtype.kind not in "fiu":
        raise DatasetError(f"array of dtype {array.dtype}; expected numbers", path=path)
    return array


def parse_release(root: str | Path, layout: SkeletonLayout, dataset: str | None = None) -> ParseResult:
    """Index and problems of a release folder (see module docstring). Raises DatasetError when unreadable.

    ``dataset`` names the data in the index (default: the layout's name), e.g. ``microgesture`` for the stand-in
    written in the iMiGUE layout.
    """
    root = require_root(root)
    problems = Problems()
    frames = []
    for split in SPLIT_ALIASES:
        files = split_files(root, split)
        if files is None:
            if split in REQUIRED_SPLITS:
                problems.error(root / f"{split}_data.npy", f"missing: the {split} split of the cross-subject protocol")
            continue
        data_path, label_path = files
        array = open_skeletons(data_path, layout)
        names, labels = read_label_file(label_path)
        if len(names) != array.shape[0]:
            raise DatasetError(f"{len(names)} labels for {array.shape[0]} samples in {data_path.name}",
                               path=label_path)
        frames.append(_split_index(split, data_path, label_path, names, labels, layout, dataset or layout.dataset))
        _check_labels(labels, label_path, layout, problems)
        _check_values(array, data_path, problems)
    index = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(INDEX_COLUMNS))
    _check_duplicates(index, problems)
    _check_subject_overlap(index, root, problems)
    return ParseResult(index, problems)


def _split_index(split, data_path, label_path, names, labels, layout, dataset: str) -> pd.DataFrame:
    rows = []
    for row, (name, label) in enumerate(zip(names, labels, strict=True)):
        try:
            subject, clip = layout.subject_of(name)
        except ValueError as err:
            raise DatasetError(f"row {row}: {err}", path=label_path) from None
        rows.append({
            "sample_id": make_sample_id(dataset, subject, clip), "dataset": dataset,
            "subject": subject, "clip": clip, "split": split, "label": label,
            "data_file": str(data_path.resolve()), "row": row,
        })
    return pd.DataFrame(rows, columns=list(INDEX_COLUMNS))


def _check_labels(labels: Sequence[int], path: Path, layout: SkeletonLayout, problems: Problems) -> None:
    bad = sorted({v for v in labels if not 0 <= v < layout.n_classes})
    if bad:
        problems.error(path, f"labels {bad[:5]} outside 0..{layout.n_classes - 1} ({layout.dataset} has "
                             f"{layout.n_classes} classes; labels are 0-based)")


def _check_values(array: np.ndarray, path: Path, problems: Problems, chunk: int = 512) -> None:
    """Non-finite values are an error; all-zero samples (nothing detected) a warning. Reads in chunks."""
    non_finite, empty = [], []
    for start in range(0, len(array), chunk):
        block = np.asarray(array[start : start + chunk])
        flat = block.reshape(len(block), -1)
        non_finite += (start + np.flatnonzero(~np.isfinite(flat).all(1))).tolist()
        empty += (start + np.flatnonzero(~flat.any(1))).tolist()
    if non_finite:
        problems.error(path, f"{len(non_finite)} samples hold NaN or inf (rows {non_finite[:5]})")
    if empty:
        problems.warning(path, f"{len(empty)} samples are all zeros, no joint detected (rows {empty[:5]})")


def _check_duplicates(index: pd.DataFrame, problems: Problems) -> None:
    dup = index.loc[index["sample_id"].duplicated(), "sample_id"]
    if len(dup):
        problems.error(index.loc[dup.index[0], "data_file"], f"duplicate sample names: {sorted(set(dup))[:5]}")


def _check_subject_overlap(index: pd.DataFrame, root: Path, problems: Problems) -> None:
    train = set(index.loc[index["split"] == "train", "subject"])
    test = set(index.loc[index["split"] == "test", "subject"])
    shared = sorted(train & test, key=lambda s: (len(s), s))
    if shared:
        problems.warning(root, f"subjects {shared[:5]} appear in both train and test: the split is not "
                               "cross-subject for them")


def load_samples(index: pd.DataFrame, layout: SkeletonLayout) -> np.ndarray:
    """float32 (n, C, T, V, M) arrays of the index rows, in index order (one memory-map per data file)."""
    if index.empty:
        raise DatasetError("no samples to load")
    files = index["data_file"].to_numpy()
    rows = index["row"].to_numpy()
    out = None
    for data_file in dict.fromkeys(files):
        array = open_skeletons(Path(data_file), layout)
        if out is None:
            out = np.empty((len(index), *array.shape[1:]), dtype=np.float32)
        if array.shape[1:] != out.shape[1:]:
            raise DatasetError(f"array of shape {array.shape} differs from the other splits' {out.shape[1:]}",
                               path=data_file)
        positions = np.flatnonzero(files == data_file)
        out[positions] = array[rows[positions]]
    return out


# -- writing (the twin) -----------------------------------------------------------------------------------------
def write_release(
    root: str | Path,
    splits: dict[str, tuple[Sequence[str], Sequence[int], np.ndarray]],
    label_format: str = "pkl",
) -> list[Path]:
    """Write ``{split: (names, labels, array)}`` in the release layout; ``label_format`` pkl (as released), json or csv.

    The pickle holds exactly what the public releases hold: a tuple of a list of str and a list of int.
    """
    root = Path(root)
    written = []
    for split, (names, labels, array) in splits.items():
        if len(names) != len(labels) or len(names) != len(array):
            raise ValueError(f"{split}: {len(names)} names, {len(labels)} labels, {len(array)} samples")
        written.append(write_npy(root / f"{split}_data.npy", np.asarray(array, dtype=np.float32)))
        written.append(write_labels(root / f"{split}_label.{label_format}", list(names), list(labels)))
    return written


def write_labels(path: Path, names: list[str], labels: list[int]) -> Path:
    names, labels = [str(n) for n in names], [int(v) for v in labels]
    if path.suffix == ".pkl":
        with atomic_path(path) as tmp:
            tmp.write_bytes(pickle.dumps((names, labels), protocol=3))
        return path
    if path.suffix == ".csv":
        return write_csv(path, pd.DataFrame({"sample_name": names, "label": labels}))
    if path.suffix == ".json":
        return write_text(path, json.dumps([names, labels]) + "\n")
    raise ValueError(f"label format must be pkl, json or csv, got {path.suffix!r}")
