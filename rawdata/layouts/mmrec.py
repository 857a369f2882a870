"""The MMRec dataset format (Amazon Baby/Sports/Clothing as released with MMRec): parser and writer twin.

A dataset folder holds (reference/datasets.md):

- ``<name>.inter``: tab separated with a header naming at least ``userID itemID rating timestamp x_label``; ids
  count from 0; ``x_label`` is 0 / 1 / 2 for train / valid / test.
- ``image_feat.npy`` (items x D_image) and ``text_feat.npy`` (items x D_text), row i describing item i.
- optionally ``feature_names.json`` naming the dimensions of a modality (``{"image": [...]}``), which the
  attribution figure uses as labels (the MovieLens conversion names its genre dimensions).

The parser is a few pure functions (find the file, read the table, check it, read the features) so a user's copy
of Amazon Baby drops in unchanged; :func:`write_mmrec` is its writer twin, used by the MovieLens conversion and by
``affect synth rec``. :func:`split_per_user` makes the per-user random split the released data use. The
batches and the LightningDataModule that train on a parsed folder are in datamodules/mmrec.py.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from core.errors import DatasetError
from core.io import atomic_path, write_npy
from core.ranking import as_csr
from rawdata.index import is_standin
from rawdata.layouts.common import ParseResult, Problems

INTER_COLUMNS = ("userID", "itemID", "rating", "timestamp", "x_label")
SPLITS = {0: "train", 1: "valid", 2: "test"}
MODALITY_FILES = {"image": "image_feat.npy", "text": "text_feat.npy"}
FEATURE_NAMES_FILE = "feature_names.json"  # optional: {"image": [name of each dimension], ...}
DEFAULT_RATIOS = (0.8, 0.1, 0.1)


# ----------------------------------------------------------------------------------------------------------------
# parsing
# ----------------------------------------------------------------------------------------------------------------


def find_inter_file(root: str | Path) -> Path:
    """The one ``*.inter`` file of a dataset folder (MMRec names it after the dataset: ``baby/baby.inter``)."""
    root = Path(root)
    if not root.is_dir():
        raise DatasetError("dataset folder not found", path=root, hint="expected an MMRec folder with <name>.inter")
    candidates = sorted(root.glob("*.inter"))
    if not candidates:
        raise DatasetError("no <name>.inter file", path=root, hint="MMRec format: <name>.inter, image_feat.npy, "
                           "text_feat.npy")
    if len(candidates) > 1:
        names = ", ".join(p.name for p in candidates)
        raise DatasetError(f"several .inter files ({names}); keep one per dataset folder", path=root)
    return candidates[0]


def read_interactions(path: str | Path) -> pd.DataFrame:
    """Read ``<name>.inter`` into int64 columns userID, itemID, x_label and float rating, timestamp.

    Raises DatasetError naming the file and the line (1 = header) of the first malformed value.
    """
    path = Path(path)
    try:
        frame = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError) as err:
        raise DatasetError(f"not a tab-separated table: {err}", path=path) from None
    missing = [c for c in INTER_COLUMNS if c not in frame.columns]
    if missing:
        raise DatasetError(f"missing columns {missing}; header is {list(frame.columns)}", path=path,
                           hint="expected tab-separated columns " + " ".join(INTER_COLUMNS))
    out = pd.DataFrame(index=frame.index)
    for column in ("userID", "itemID", "x_label"):
        out[column] = _integer_column(frame[column], column, path)
    for column in ("rating", "timestamp"):
        out[column] = _float_column(frame[column], column, path)
    bad_label = ~out["x_label"].isin(list(SPLITS))
    if bad_label.any():
        row = int(np.flatnonzero(bad_label.to_numpy())[0])
        raise DatasetError(f"line {row + 2}: x_label {frame['x_label'].iloc[row]!r} is not 0, 1 or 2 "
                           "(train, valid, test)", path=path)
    return out[list(INTER_COLUMNS)]


def _integer_column(values: pd.Series, column: str, path: Path) -> pd.Series:
    numbers = pd.to_numeric(values.str.strip(), errors="coerce")
    bad = numbers.isna() | (numbers < 0) | (numbers != np.floor(numbers))
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise DatasetError(f"line {row + 2}: {column} {values.iloc[row]!r} is not a non-negative integer", path=path)
    return numbers.astype(np.int64)


def _float_column(values: pd.Series, column: str, path: Path) -> pd.Series:
    stripped = values.str.strip()
    numbers = pd.to_numeric(stripped.where(stripped != "", "0"), errors="coerce")
    if numbers.isna().any():
        row = int(np.flatnonzero(numbers.isna().to_numpy())[0])
        raise DatasetError(f"line {row + 2}: {column} {values.iloc[row]!r} is not a number", path=path)
    return numbers.astype(np.float64)


def check_interactions(frame: pd.DataFrame, path: Path, problems: Problems) -> None:
    """Record what is wrong with a parsed interaction table: errors make the dataset unusable."""
    duplicated = frame.duplicated(["userID", "itemID"], keep="first")
    if duplicated.any():
        row = int(np.flatnonzero(duplicated.to_numpy())[0])
        problems.error(path, f"user {frame['userID'].iloc[row]} and item {frame['itemID'].iloc[row]} appear more "
                       f"than once ({int(duplicated.sum())} repeated pairs); each pair belongs to one split",
                       row=row + 2)
    counts = frame["x_label"].value_counts()
    for label, name in SPLITS.items():
        if counts.get(label, 0) == 0:
            report = problems.warning if name == "valid" else problems.error
            report(path, f"no {name} interactions (x_label = {label})"
                   + ("; early stopping needs them" if name == "valid" else ""))
    n_users = int(frame["userID"].max()) + 1 if len(frame) else 0
    absent = n_users - frame["userID"].nunique()
    if absent:
        problems.warning(path, f"{absent} user ids below the largest ({n_users - 1}) never occur")
    cold = sorted(set(frame.loc[frame["x_label"] > 0, "userID"]) - set(frame.loc[frame["x_label"] == 0, "userID"]))
    if cold:
        problems.warning(path, f"{len(cold)} users have valid/test interactions but none in train (e.g. user "
                         f"{cold[0]}); they are ranked from untrained embeddings")


def read_feature_file(path: Path, n_items: int) -> np.ndarray:
    """One modality's (items x D) features as float32, checked against the number of items."""
    if not path.is_file():
        raise DatasetError("missing feature file", path=path,
                           hint=f"expected a (n_items={n_items}) x D float array saved with numpy.save")
    try:
        array = np.load(path, allow_pickle=False)
    except ValueError as err:
        raise DatasetError(f"cannot read as a numpy array: {err}", path=path) from None
    if array.ndim != 2 or not np.issubdtype(array.dtype, np.number):
        raise DatasetError(f"expected a 2-D numeric array (items x D), got shape {array.shape} of {array.dtype}",
                           path=path)
    if array.shape[0] < n_items:
        raise DatasetError(f"has {array.shape[0]} rows but the interactions name item ids up to {n_items - 1}",
                           path=path, hint="row i holds the features of item i")
    finite = np.isfinite(array).all(axis=1)
    if not finite.all():
        raise DatasetError(f"row {int(np.flatnonzero(~finite)[0])} (item id) holds NaN or infinite values",
                           path=path, hint="MMRec fills missing items with the mean feature")
    return array.astype(np.float32, copy=False)


def summarize_features(root: str | Path) -> dict[str, str]:
    """``{modality: "items x dims"}`` of the readable feature files (header only, nothing loaded)."""
    shapes = {}
    for modality, name in MODALITY_FILES.items():
        try:
            shapes[modality] = " x ".join(map(str, np.load(Path(root) / name, mmap_mode="r").shape))
        except (OSError, ValueError):
            continue  # parse() reports the unreadable file
    return shapes


def read_features(root: str | Path, n_items: int) -> dict[str, np.ndarray]:
    """Every modality's features of a dataset folder; all must describe the same number of items."""
    root = Path(root)
    features = {m: read_feature_file(root / name, n_items) for m, name in MODALITY_FILES.items()}
    rows = {m: a.shape[0] for m, a in features.items()}
    if len(set(rows.values())) > 1:
        raise DatasetError(f"feature files disagree on the number of items: {rows}", path=root)
    return features


@dataclass
class MMRecData:
    """A parsed MMRec dataset: ids as in the file, the training pairs and the held-out items of each user."""

    name: str
    root: Path
    n_users: int
    n_items: int
    train_pairs: np.ndarray  # (n_train, 2) int64 (user, item)
    valid: dict[int, np.ndarray]  # user -> items with x_label 1
    test: dict[int, np.ndarray]  # user -> items with x_label 2
    features: dict[str, np.ndarray]  # modality -> (n_items, D) float32
    feature_names: dict[str, list[str]] = field(default_factory=dict)  # modality -> dimension names, when known
    warnings: list[str] = field(default_factory=list)
    standin: bool = False

    def train_matrix(self, layout: str = "coo") -> torch.Tensor:
        """The binary (n_users, n_items) training interaction matrix as torch sparse COO or CSR."""
        return interaction_matrix(self.train_pairs, self.n_users, self.n_items, layout)

    def summary(self) -> dict:
        """Counts for logs and `affect data check`."""
        n_valid = int(sum(len(v) for v in self.valid.values()))
        n_test = int(sum(len(v) for v in self.test.values()))
        n_inter = len(self.train_pairs) + n_valid + n_test
        return {
            "name": self.name,
            "users": self.n_users,
            "items": self.n_items,
            "interactions": n_inter,
            "train": len(self.train_pairs),
            "valid": n_valid,
            "test": n_test,
            "density": n_inter / max(1, self.n_users * self.n_items),
            "feature_dims": {m: int(a.shape[1]) for m, a in self.features.items()},
            "standin": self.standin,
        }


def parse(root: str | Path) -> ParseResult:
    """`affect data check mmrec`: the interaction table (one row per interaction) and every problem found."""
    root = Path(root)
    problems = Problems()
    try:
        path = find_inter_file(root)
        frame = read_interactions(path)
    except DatasetError as err:
        problems.error(err.path or root, str(err).removeprefix(f"{err.path}: "))
        return ParseResult(pd.DataFrame(columns=list(INTER_COLUMNS)), problems)
    check_interactions(frame, path, problems)
    n_items = int(frame["itemID"].max()) + 1 if len(frame) else 0
    rows = {}
    for modality, name in MODALITY_FILES.items():
        try:
            rows[modality] = read_feature_file(root / name, n_items).shape[0]
        except DatasetError as err:
            problems.error(err.path, str(err).removeprefix(f"{err.path}: "))
    if len(set(rows.values())) > 1:
        problems.error(root, f"feature files disagree on the number of items: {rows}")
    try:
        read_feature_names(root)
    except DatasetError as err:
        problems.error(err.path, str(err).removeprefix(f"{err.path}: "))
    return ParseResult(frame, problems)


def load_mmrec(root: str | Path) -> MMRecData:
    """Parse and check an MMRec folder for training; raises DatasetError naming every error found."""
    root = Path(root)
    path = find_inter_file(root)
    frame = read_interactions(path)
    problems = Problems()
    check_interactions(frame, path, problems)
    errors = [str(p) for p in problems if p.severity == "error"]
    if errors:
        raise DatasetError("; ".join(errors[:3]) + (f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""),
                           hint=f"run `affect data check mmrec --root {root}` for the full list")
    features = read_features(root, int(frame["itemID"].max()) + 1)
    return MMRecData(
        name=path.stem,
        root=root,
        n_users=int(frame["userID"].max()) + 1,
        n_items=next(iter(features.values())).shape[0],
        train_pairs=frame.loc[frame["x_label"] == 0, ["userID", "itemID"]].to_numpy(np.int64),
        valid=items_by_user(frame[frame["x_label"] == 1]),
        test=items_by_user(frame[frame["x_label"] == 2]),
        features=features,
        feature_names=read_feature_names(root),
        warnings=[str(p) for p in problems],
        standin=is_standin(root),
    )


def read_feature_names(root: str | Path) -> dict[str, list[str]]:
    """The optional per-dimension names of ``feature_names.json`` ({} when absent)."""
    path = Path(root) / FEATURE_NAMES_FILE
    if not path.is_file():
        return {}
    try:
        names = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise DatasetError(f"not valid JSON: {err}", path=path) from None
    if not isinstance(names, dict) or not all(isinstance(v, list) for v in names.values()):
        raise DatasetError('expected {"<modality>": [dimension names]}', path=path)
    return {str(m): [str(n) for n in v] for m, v in names.items()}


def items_by_user(frame: pd.DataFrame) -> dict[int, np.ndarray]:
    """{user: sorted item ids} of an interaction table."""
    return {int(u): np.sort(g.to_numpy(np.int64)) for u, g in frame.groupby("userID")["itemID"]}


def interaction_matrix(pairs: np.ndarray, n_users: int, n_items: int, layout: str = "coo") -> torch.Tensor:
    """Binary sparse (n_users, n_items) matrix with a one at each (user, item) pair."""
    indices = torch.from_numpy(np.ascontiguousarray(pairs.T, dtype=np.int64))
    matrix = torch.sparse_coo_tensor(indices, torch.ones(indices.shape[1]), (n_users, n_items),
                                     check_invariants=False).coalesce()
    if layout == "coo":
        return matrix
    if layout == "csr":
        return as_csr(matrix)
    raise ValueError(f"layout must be 'coo' or 'csr', got {layout!r}")


# ----------------------------------------------------------------------------------------------------------------
# writing (the parser's twin) and the per-user split
# ----------------------------------------------------------------------------------------------------------------


def split_sizes(n: np.ndarray, ratios: tuple[float, float, float] = DEFAULT_RATIOS) -> tuple[np.ndarray, ...]:
    """(n_train, n_valid, n_test) per user: valid and test get round(n * ratio) but at least one each when the user
    has three or more interactions; train keeps the rest (MMRec's papers do not state their rounding)."""
    n = np.asarray(n, dtype=np.int64)
    total = sum(ratios)
    n_valid = np.floor(n * ratios[1] / total + 0.5).astype(np.int64)
    n_test = np.floor(n * ratios[2] / total + 0.5).astype(np.int64)
    enough = n >= 3
    n_valid = np.where(enough, np.maximum(n_valid, 1), 0)
    n_test = np.where(enough, np.maximum(n_test, 1), 0)
    return n - n_valid - n_test, n_valid, n_test


def split_per_user(users: np.ndarray, ratios: tuple[float, float, float] = DEFAULT_RATIOS, seed: int = 0
                   ) -> np.ndarray:
    """x_label (0 train, 1 valid, 2 test) of each interaction: every user's interactions shuffled with ``seed`` and
    cut by :func:`split_sizes`, the per-user random split of MMRec's released Amazon data."""
    users = np.asarray(users, dtype=np.int64)
    order = np.lexsort((np.random.default_rng(seed).random(len(users)), users))
    sorted_users = users[order]
    first = np.searchsorted(sorted_users, sorted_users, side="left")
    rank_in_user = np.arange(len(users)) - first
    counts = np.bincount(users, minlength=int(users.max()) + 1 if len(users) else 0)
    n_train, n_valid, _ = (size[sorted_users] for size in split_sizes(counts, ratios))
    labels_sorted = np.where(rank_in_user < n_train, 0, np.where(rank_in_user < n_train + n_valid, 1, 2))
    labels = np.empty_like(labels_sorted)
    labels[order] = labels_sorted
    return labels


def write_mmrec(out: str | Path, name: str, interactions: pd.DataFrame, features: dict[str, np.ndarray]) -> Path:
    """Write an MMRec folder: ``<name>.inter`` (columns INTER_COLUMNS) and one ``.npy`` per modality."""
    out = Path(out)
    missing = set(MODALITY_FILES) - set(features)
    if missing:
        raise ValueError(f"features for {sorted(missing)} are missing")
    for modality, array in features.items():
        write_npy(out / MODALITY_FILES[modality], np.asarray(array, dtype=np.float32))
    with atomic_path(out / f"{name}.inter") as tmp:
        interactions[list(INTER_COLUMNS)].to_csv(tmp, sep="\t", index=False)
    return out
