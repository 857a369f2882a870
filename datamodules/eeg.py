"""EEG differential-entropy windows for the EEG emotion methods: one row per window, folds by trial.

:class:`EEGSource` is the task's data source (experiments/tasks/eeg.py, which reuses the fold loop of
experiments/tasks/folds.py): it parses the dataset folder at ``data.eeg_root`` (default ``data/raw/<dataset>``; a
stand-in from ``affect synth <format>`` or a licensed copy) with the reader of its format (:data:`READERS`):

- ``seed`` / ``seed_iv`` (rawdata/layouts/seed.py, seed_iv.py): the release's DE features, ``data.feature``
  (default ``de_LDS``: 62 channels x 5 bands per window; SEED-IV's windows are 4 s in the release);
- ``deap`` (rawdata/layouts/deap.py): the release ships signals, so the DE features are computed here
  (:func:`read_deap`, preprocessing/eeg_features.py): 32 EEG channels x 4 bands (theta, alpha, beta, gamma) per
  ``data.window_s`` window after the ``data.baseline_s`` pre-trial baseline, classes low / high of the rating
  ``data.target`` (valence or arousal, high = rating > 5); every subject has one session;
- ``mped`` (rawdata/layouts/mped.py): the release's extracted features, ``data.feature`` (default ``STFT``, the same
  62 x 5 shape as SEED's DE, because MPED ships no DE); the trials whose emotion is in ``data.exclude_emotions``
  (MPED: the two resting trials) are dropped, for any format;
- ``modma`` (rawdata/layouts/modma.py): raw-signal windows (channels x samples) of one resting recording per subject
  (:func:`read_modma`); the label is the subject's (MDD / HC), every window of a subject carries it.

It keeps ONE INDEX ROW PER WINDOW, whose ``sample_id`` is the window id of datamodules/eeg_protocols.py
(``<trial sample_id>#w<j>``). The folds are those protocols' (every fold keeps whole trials on one side), so the
fold loop's predictions, per-subject scores and pooled metrics work unchanged.

Choices (the papers do not fix them; each a ``data.*`` knob):

- ``normalize: train`` (default) z-scores every (channel, band) cell with the mean and std of the fold's TRAINING
  windows only; ``per_subject`` z-scores each subject's windows with that subject's own statistics over all its
  windows, test trials included (unlabelled features only: a transductive choice common in cross-subject EEG work,
  reported as such); ``none`` keeps the features as read.
- ``smoothing: none`` (default: SEED's ``de_LDS`` is already smoothed) or ``lds`` / ``moving_average``: re-smoothing
  within each trial only (preprocessing/eeg_smoothing.py), never across a trial boundary.
- ``context: k`` (default 1): each window also comes with its k-1 preceding windows of the SAME trial (the first
  window repeated at the trial's start) under ``seq`` (B, k, 62, 5), for methods with a temporal layer (STRNN).
- ``transductive: true`` (set by the domain-adaptation methods): each training item also carries a window drawn at
  random from the fold's TEST windows under ``x_target`` (features only; its label never leaves the index) and a
  ``domain`` id of the source window's subject. This is the cross-subject transfer setting of TANN and the DA
  family (the unlabelled target subject is available at training); with it off nothing of the test side is read.
- ``peripheral: [gsr, respiration, plethysmograph, ...]`` (DEAP only; default none): each window also carries the
  RAW segment of each named peripheral channel over the same window (:func:`read_deap_peripheral`, the channels of
  rawdata/layouts/deap.py ``CHANNELS`` 33-40) under ``x_<name>`` (B, window samples), z-scored per channel with
  the fold's training windows (``normalize: train``; per subject with ``per_subject``). Raw segments rather than
  hand-made features: MFMC's encoders read raw windows (its DEAP preprocessing: 10 s windows, github.com/DY9910/
  MFMC DEAP_Preprocess.py); here the window is the DE window (``window_s``), so EEG and peripheral inputs of an item
  cover the same seconds.
- Negative controls (datamodules/controls.py): ``permuted_labels`` shuffles the TRIAL labels (all windows of a
  trial keep one label, so the control keeps SEED's structure); ``blank_input`` zeroes the features.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path

import lightning.pytorch as pl
import numpy as np
import pandas as pd
import torch
from omegaconf import OmegaConf
from torch.utils.data import DataLoader, Dataset

from core.errors import ConfigError, DatasetError
from datamodules import controls
from datamodules.eeg_protocols import trial_of, windows_of
from preprocessing.eeg_features import DEAP_BANDS, differential_entropy
from preprocessing.eeg_smoothing import smooth_within_trials
from rawdata.datasets import DATASETS
from rawdata.index import is_standin
from rawdata.layouts import parse
from rawdata.layouts.common import Problems

NORMALIZE = ("train", "per_subject", "none")
MODMA_SCALE = ("none", "window", "recording")  # read_modma ``data.scale``


@dataclass
class EEGInfo:
    """What a method needs to know about one fold's data (statistics from its TRAINING windows only)."""

    n_classes: int
    class_names: list[str]
    channels: list[str]
    bands: list[str]
    n_train: int = 0
    class_counts: list[int] = field(default_factory=list)
    n_domains: int = 1          # training subjects (the domain ids of ``domain``)
    context: int = 1
    extra: dict = field(default_factory=dict)

    @property
    def n_channels(self) -> int:
        return len(self.channels)

    @property
    def n_bands(self) -> int:
        return len(self.bands)


def _opt(cfg, key: str, default):
    return OmegaConf.select(cfg, key, default=default)


class EEGSource:
    """Every window of the EEG folder with its label, subject, session and trial (see the module doc)."""

    def __init__(self, cfg, inputs: tuple[str, ...] = (), root: Path | str = "."):
        self.cfg = cfg
        trials, arrays, self.channels, self.bands = self.read(cfg, Path(root))
        classes = list(cfg.data.classes)
        excluded = [str(e) for e in (_opt(cfg, "data.exclude_emotions", None) or [])]
        trials = trials[~trials["emotion"].isin(excluded)].reset_index(drop=True)
        bad = sorted(set(trials["emotion"]) - set(classes))
        if bad:
            raise ConfigError(f"data.classes {classes} lacks the {cfg.dataset} classes {bad}",
                              hint="add them, or list them in data.exclude_emotions")
        trials["y"] = trials["emotion"].map({c: i for i, c in enumerate(classes)}).astype(int)
        self.trials = controls.apply(cfg, trials, {})[0]  # permuted_labels: whole trials' labels shuffled
        self.standin = self.is_standin()
        ids = windows_of(self.trials)
        x = np.concatenate([arrays[s] for s in self.trials["sample_id"]]).astype(np.float32)
        if controls.negative_control(cfg) == "blank_input":
            x = np.zeros_like(x)
        trial_ids = [trial_of(w) for w in ids]
        smoothing = str(_opt(cfg, "data.smoothing", "none"))
        if smoothing != "none":
            x = smooth_within_trials(x, trial_ids, smoothing).astype(np.float32)
        rows = self.trials.set_index("sample_id").loc[trial_ids]
        self.index = pd.DataFrame({
            "sample_id": ids, "dataset": self.window_datasets(rows), "subject": rows["subject"].astype(str).to_numpy(),
            "session": rows["session"].to_numpy(), "trial": rows["trial"].to_numpy(), "trial_id": trial_ids,
            "y": rows["y"].to_numpy(), "emotion": rows["emotion"].to_numpy(),
        })
        self.position = {w: i for i, w in enumerate(ids)}
        self.x = x
        self.previous = _previous_windows(trial_ids)
        self.peripheral = _peripheral_windows(self, self.format, cfg, ids)
        self.normalize = str(_opt(cfg, "data.normalize", "train"))
        if self.normalize not in NORMALIZE:
            raise ConfigError(f"data.normalize={self.normalize!r}: expected one of {NORMALIZE}")
        if self.normalize == "per_subject":
            self.x = _per_subject_z(self.x, self.index["subject"].to_numpy())
            self.peripheral = {k: _per_subject_z(v, self.index["subject"].to_numpy())
                               for k, v in self.peripheral.items()}

    def read(self, cfg, root: Path) -> tuple[pd.DataFrame, dict[str, np.ndarray], tuple, tuple]:
        """The folder ``data.eeg_root`` (default ``data/raw/<dataset>``) read by its format's reader."""
        self.folder = eeg_folder(cfg, str(cfg.dataset), str(_opt(cfg, "data.eeg_root", "")), root)
        self.format = DATASETS[str(cfg.dataset)].format if str(cfg.dataset) in DATASETS else str(cfg.dataset)
        return read_folder(self.format, self.folder, cfg, "data.eeg_root")

    def is_standin(self) -> bool:
        return is_standin(self.folder)

    def window_datasets(self, rows: pd.DataFrame):
        """The ``dataset`` column of the window index (one dataset: the config's)."""
        return str(self.cfg.dataset)

    def data_files(self) -> list[Path]:
        return sorted({Path(f) for f in self.trials["file"]})

    def rows(self, ids) -> np.ndarray:
        return np.fromiter((self.position[w] for w in ids), dtype=np.int64, count=len(ids))

    def info(self, train_ids) -> EEGInfo:
        rows = self.rows(list(train_ids))
        classes = list(self.cfg.data.classes)
        subjects = sorted(set(self.index["subject"].to_numpy()[rows]))
        return EEGInfo(n_classes=len(classes), class_names=classes, channels=list(self.channels),
                       bands=list(self.bands),
                       n_train=len(rows), class_counts=np.bincount(self.index["y"].to_numpy()[rows],
                                                                   minlength=len(classes)).tolist(),
                       n_domains=len(subjects), context=int(_opt(self.cfg, "data.context", 1)),
                       extra={"peripheral": {k: int(v.shape[1]) for k, v in self.peripheral.items()}})

    def datamodule(self, fold, seed: int = 0) -> EEGDataModule:
        return EEGDataModule(self, fold, self.cfg, seed)


def _trials_of(parsed, fmt: str, folder: Path) -> pd.DataFrame:
    if parsed.index.empty:
        first = next((str(p) for p in parsed.problems), "no trials")
        raise DatasetError(f"no usable {fmt} trials under {folder}: {first}", path=folder)
    return parsed.index.copy()


def read_seed_family(fmt: str):
    """Reader of a DE-feature release (SEED, SEED-IV): trials, their (T, 62, 5) arrays, channels, bands."""

    def read(folder: Path, cfg) -> tuple[pd.DataFrame, dict[str, np.ndarray], tuple, tuple]:
        layout = importlib.import_module(f"rawdata.layouts.{fmt}")
        trials = _trials_of(parse(fmt, folder), fmt, folder)
        trials["emotion"] = trials["label"].map(layout.LABELS)
        feature = str(_opt(cfg, "data.feature", "de_LDS"))
        if feature not in str(trials["features"].iloc[0]).split("+"):
            raise ConfigError(f"data.feature={feature!r} is not in {folder} (found {trials['features'].iloc[0]})")
        return trials, layout.load_trials(trials, feature), tuple(layout.CHANNELS), tuple(layout.BANDS)

    return read


def read_deap(folder: Path, cfg) -> tuple[pd.DataFrame, dict[str, np.ndarray], tuple, tuple]:
    """DEAP: DE of the 32 EEG channels per ``data.window_s`` window after the ``data.baseline_s`` pre-trial
    baseline (preprocessing/eeg_features.py, bands ``data.bands``); class ``high`` / ``low`` of the rating named
    by ``data.target`` (valence | arousal; high = rating > 5, rawdata/layouts/deap.py). One session per subject.
    Pickled .dat files are read only with ``data.trust_pickle: true`` (the parser's explicit flag)."""
    from rawdata.layouts import deap

    target = str(_opt(cfg, "data.target", "valence"))
    if target not in ("valence", "arousal"):
        raise ConfigError(f"data.target={target!r}: expected valence or arousal (DEAP's binary tasks)")
    trust = bool(_opt(cfg, "data.trust_pickle", False))
    trials = _trials_of(deap.parse(folder, trust_pickle=trust), "deap", folder)
    bands = {str(k): tuple(float(f) for f in v) for k, v in dict(_opt(cfg, "data.bands", None) or DEAP_BANDS).items()}
    window_s, baseline_s = float(_opt(cfg, "data.window_s", 1.0)), float(_opt(cfg, "data.baseline_s", 3.0))
    start = int(round(baseline_s * deap.RATE))
    arrays: dict[str, np.ndarray] = {}
    for file, rows in trials.groupby("file", sort=False):
        signal = np.asarray(deap.read_file(Path(file), Problems(), trust)["data"], dtype=np.float64)
        if signal.shape[2] - start < window_s * deap.RATE:
            raise DatasetError(f"{signal.shape[2]} samples per trial leave no {window_s} s window after the "
                               f"{baseline_s} s baseline (data.baseline_s)", path=Path(file))
        picked = signal[rows["trial"].to_numpy() - 1, : deap.N_EEG, start:]  # (trials, 32, samples), one filter pass
        de = differential_entropy(picked.reshape(-1, picked.shape[2]), deap.RATE, bands, window_s)
        de = de.reshape(de.shape[0], len(rows), deap.N_EEG, len(bands)).astype(np.float32)
        for j, sample_id in enumerate(rows["sample_id"]):
            arrays[sample_id] = de[:, j]
    trials["emotion"] = np.where(trials[f"{target}_high"] == 1, "high", "low")
    trials["label"] = trials[f"{target}_high"]
    trials["session"] = 1
    trials["windows"] = [len(arrays[sid]) for sid in trials["sample_id"]]
    return trials, arrays, tuple(deap.CHANNELS[: deap.N_EEG]), tuple(bands)


# data.peripheral names -> DEAP channel names (rawdata/layouts/deap.py CHANNELS 33-40)
DEAP_PERIPHERAL = {"heog": "hEOG", "veog": "vEOG", "zemg": "zEMG", "temg": "tEMG", "gsr": "GSR",
                   "respiration": "Respiration", "plethysmograph": "Plethysmograph", "temperature": "Temperature"}


def read_deap_peripheral(trials: pd.DataFrame, cfg, names: list[str]) -> dict[str, dict[str, np.ndarray]]:
    """name -> sample_id -> (windows, window samples) raw segments of that DEAP peripheral channel, windowed
    exactly as :func:`read_deap` windows the EEG (``data.window_s`` after ``data.baseline_s``)."""
    from rawdata.layouts import deap

    trust = bool(_opt(cfg, "data.trust_pickle", False))
    window_s, baseline_s = float(_opt(cfg, "data.window_s", 1.0)), float(_opt(cfg, "data.baseline_s", 3.0))
    start, step = int(round(baseline_s * deap.RATE)), int(round(window_s * deap.RATE))
    channels = [deap.CHANNELS.index(DEAP_PERIPHERAL[n]) for n in names]
    out: dict[str, dict[str, np.ndarray]] = {n: {} for n in names}
    for file, rows in trials.groupby("file", sort=False):
        signal = np.asarray(deap.read_file(Path(file), Problems(), trust)["data"], dtype=np.float32)
        n_windows = (signal.shape[2] - start) // step
        picked = signal[rows["trial"].to_numpy() - 1][:, channels, start: start + n_windows * step]
        picked = picked.reshape(len(rows), len(channels), n_windows, step)
        for j, sample_id in enumerate(rows["sample_id"]):
            for c, name in enumerate(names):
                out[name][sample_id] = picked[j, c]
    return out


def _peripheral_windows(source: EEGSource, fmt: str, cfg, ids: list[str]) -> dict[str, np.ndarray]:
    """``data.peripheral`` -> name -> (windows, samples) aligned with ``source.x`` (empty when not asked for)."""
    names = [str(n) for n in (_opt(cfg, "data.peripheral", None) or [])]
    if not names:
        return {}
    if fmt != "deap":
        raise ConfigError(f"data.peripheral={names}: only the deap format has peripheral channels (got {fmt!r})")
    unknown = sorted(set(names) - set(DEAP_PERIPHERAL))
    if unknown or len(set(names)) != len(names):
        raise ConfigError(f"data.peripheral={names}: expected distinct names of {sorted(DEAP_PERIPHERAL)}")
    segments = read_deap_peripheral(source.trials, cfg, names)
    out = {n: np.concatenate([segments[n][s] for s in source.trials["sample_id"]]) for n in names}
    for name, values in out.items():
        if len(values) != len(ids):
            raise DatasetError(f"peripheral channel {name}: {len(values)} windows, the EEG has {len(ids)}",
                               path=source.folder)
        if controls.negative_control(cfg) == "blank_input":
            out[name] = np.zeros_like(values)
    return out


def read_mped(folder: Path, cfg) -> tuple[pd.DataFrame, dict[str, np.ndarray], tuple, tuple]:
    """MPED: the release's ``data.feature`` (default STFT) per window; ``file`` becomes that feature's file (what
    the run's data hashes name)."""
    from rawdata.layouts import mped

    trials = _trials_of(parse("mped", folder), "mped", folder)
    trials["emotion"] = trials["label"].map(mped.LABELS)
    feature = str(_opt(cfg, "data.feature", "STFT"))
    if feature not in str(trials["features"].iloc[0]).split("+"):
        raise ConfigError(f"data.feature={feature!r} is not in {folder} (found {trials['features'].iloc[0]})")
    arrays = mped.load_trials(trials, feature)
    trials["file"] = [str(mped.family_file(f, feature)) for f in trials["file"]]
    return trials, arrays, tuple(mped.CHANNELS), tuple(mped.feature_columns(feature))


def read_modma(folder: Path, cfg) -> tuple[pd.DataFrame, dict[str, np.ndarray], tuple, tuple]:
    """MODMA (rawdata/layouts/modma.py): raw-signal windows of one resting recording per subject, for methods that
    read signals (HGNN). ``data.channels`` (``ten_twenty``: the layout's 19 10-20 equivalents, named FP1 ... O2;
    ``all``: E1..E128), ``data.reference`` (``average`` of the read channels | ``cz``: as recorded),
    ``data.window_s`` non-overlapping windows (``data.max_windows`` > 0 keeps the first n), ``data.demean``
    (per-window, per-channel mean removed), ``data.scale`` (``none``: as read; ``window``: each window's channel
    divided by its own standard deviation over the window's samples; ``recording``: each channel divided by its
    standard deviation over all the windows read of that recording; both use one subject's unlabelled signal only,
    like any offline per-recording preprocessing). The "bands" axis of these arrays is the window's samples."""
    from rawdata.layouts import modma

    trials = _trials_of(parse("modma", folder), "modma", folder)
    picks = str(_opt(cfg, "data.channels", "ten_twenty"))
    if picks not in ("ten_twenty", "all"):
        raise ConfigError(f"data.channels={picks!r}: expected ten_twenty or all")
    reference = str(_opt(cfg, "data.reference", "average"))
    if reference not in ("average", "cz"):
        raise ConfigError(f"data.reference={reference!r}: expected average or cz")
    names = tuple(modma.TEN_TWENTY) if picks == "ten_twenty" else modma.CHANNELS[:128]
    rows = [modma.CHANNELS.index(modma.TEN_TWENTY[n]) if picks == "ten_twenty" else i for i, n in enumerate(names)]
    length = int(round(float(_opt(cfg, "data.window_s", 4.0)) * modma.RATE))
    limit = int(_opt(cfg, "data.max_windows", 0))
    demean = bool(_opt(cfg, "data.demean", True))
    scale = str(_opt(cfg, "data.scale", "none"))
    if scale not in MODMA_SCALE:
        raise ConfigError(f"data.scale={scale!r}: expected one of {', '.join(MODMA_SCALE)}")
    arrays: dict[str, np.ndarray] = {}
    for row in trials.itertuples():
        signal = modma.load_recording(row.file, row.variable)
        if reference == "average":
            signal = signal - signal[rows].mean(0, keepdims=True)
        count = signal.shape[1] // length
        if count < 1:
            raise DatasetError(f"{signal.shape[1]} samples: no {length}-sample window (data.window_s)",
                               path=Path(row.file))
        count = min(count, limit) if limit > 0 else count
        windows = signal[rows, : count * length].reshape(len(rows), count, length).transpose(1, 0, 2)
        if demean:
            windows = windows - windows.mean(-1, keepdims=True)
        if scale == "window":
            windows = windows / (windows.std(-1, keepdims=True) + 1e-6)
        elif scale == "recording":
            windows = windows / (windows.std(axis=(0, 2), keepdims=True) + 1e-6)
        arrays[row.sample_id] = windows.astype(np.float32)
    trials["windows"] = [len(arrays[s]) for s in trials["sample_id"]]
    return trials, arrays, names, tuple(f"s{i}" for i in range(length))


# format -> reader(folder, cfg) -> (trial index with emotion, sample_id -> (T, channels, bands), channels, bands)
READERS = {"seed": read_seed_family("seed"), "seed_iv": read_seed_family("seed_iv"), "deap": read_deap,
           "mped": read_mped, "modma": read_modma}


def eeg_folder(cfg, dataset: str, configured: str, root: Path) -> Path:
    """The folder of `dataset`: `configured` if set (relative to `root` unless absolute), else data/raw/<dataset>."""
    folder = Path(configured or f"data/raw/{dataset}")
    return folder if folder.is_absolute() else Path(root) / folder


def read_folder(fmt: str, folder: Path, cfg, key: str):
    """`folder` read by the reader of `fmt` (:data:`READERS`); `key` is the config key that names the folder."""
    if fmt not in READERS:
        raise ConfigError(f"dataset {cfg.dataset!r} (format {fmt!r}): the EEG source reads {', '.join(READERS)}")
    if not folder.exists():
        raise DatasetError(f"no {fmt} folder here ({key}): write the stand-in with `affect synth {fmt} "
                           f"--out {folder}` or set {key} to your copy", path=folder)
    return READERS[fmt](folder, cfg)


class CrossDatasetEEGSource(EEGSource):
    """Two EEG datasets in one window index on their shared classes (protocol ``cross_dataset``).

    ``data.sources`` names the datasets (SEED and SEED-IV); each is read from ``data.eeg_roots.<name>`` (default
    ``data/raw/<name>``) by its own reader, and both trial indices are mapped onto the classes of
    ``protocol.mapping`` (datamodules/eeg_protocols.py ``CLASS_MAPS``: ``merged`` 3 classes, ``strict`` 2), which
    must be ``data.classes``. Subjects are keyed ``<dataset>/<subject>`` (SEED's subject 3 is not SEED-IV's), the
    window index's ``dataset`` column says which dataset a window is from, and the folds of ``cross_dataset`` put
    one dataset on the training side and the other on the test side. Normalisation, smoothing, context,
    ``transductive`` and the negative controls are :class:`EEGSource`'s (``normalize: train`` uses the SOURCE
    dataset's training windows only; the target's statistics are never read by the data path).
    """

    def read(self, cfg, root: Path):
        from datamodules.eeg_protocols import CLASS_MAPS, cross_dataset_index

        names = [str(n) for n in (_opt(cfg, "data.sources", None) or [])]
        if len(names) != 2 or len(set(names)) != 2:
            raise ConfigError(f"data.sources={names}: the cross-dataset EEG source needs two different datasets")
        mapping = str(_opt(cfg, "protocol.mapping", "merged"))
        if mapping not in CLASS_MAPS:
            raise ConfigError(f"protocol.mapping={mapping!r}: expected one of {', '.join(CLASS_MAPS)}")
        shared = sorted(set(next(iter(CLASS_MAPS[mapping].values())).values()))
        if sorted(str(c) for c in cfg.data.classes) != shared:
            raise ConfigError(f"data.classes {list(cfg.data.classes)} are not the {mapping} mapping's classes "
                              f"{shared}", hint="set data.classes to them (any order) or change protocol.mapping")
        roots = dict(_opt(cfg, "data.eeg_roots", None) or {})
        self.folders, parts, arrays, layout = [], [], {}, None
        for name in names:
            fmt = DATASETS[name].format if name in DATASETS else name
            folder = eeg_folder(cfg, name, str(roots.get(name, "") or ""), root)
            trials, own, channels, bands = read_folder(fmt, folder, cfg, f"data.eeg_roots.{name}")
            if layout is not None and (channels, bands) != layout:
                raise DatasetError(f"{name}: channels / bands differ from {names[0]}'s; a cross-dataset run needs "
                                   f"the same {len(layout[0])} channels x {len(layout[1])} bands", path=folder)
            layout = (channels, bands)
            trials = trials.copy()
            trials["dataset"] = name
            parts.append(trials)
            arrays.update(own)
            self.folders.append(folder)
        trials = cross_dataset_index(parts, mapping)
        trials["emotion"] = trials["label"]
        trials["subject"] = trials["dataset"].astype(str) + "/" + trials["subject"].astype(str)
        self.folder, self.format = self.folders[0], "eeg_cross"
        return trials.reset_index(drop=True), arrays, layout[0], layout[1]

    def is_standin(self) -> bool:
        return all(is_standin(f) for f in self.folders)

    def window_datasets(self, rows: pd.DataFrame):
        return rows["dataset"].astype(str).to_numpy()


def _per_subject_z(x: np.ndarray, subjects: np.ndarray) -> np.ndarray:
    out = np.empty_like(x)
    for s in np.unique(subjects):
        part = subjects == s
        out[part] = (x[part] - x[part].mean(0)) / (x[part].std(0) + 1e-6)
    return out


def _previous_windows(trial_ids: list[str]) -> np.ndarray:
    """For each window its position and the index of its trial's first window (for ``context``)."""
    starts = np.empty(len(trial_ids), dtype=np.int64)
    start = 0
    for i, trial in enumerate(trial_ids):
        if i and trial != trial_ids[i - 1]:
            start = i
        starts[i] = start
    return starts


class WindowDataset(Dataset):
    def __init__(self, x: torch.Tensor, y: np.ndarray, rows: np.ndarray, starts: np.ndarray, context: int,
                 domain: np.ndarray | None = None, target_rows: np.ndarray | None = None, seed: int = 0,
                 extra: dict[str, torch.Tensor] | None = None):
        self.x, self.y, self.rows, self.starts, self.context = x, torch.as_tensor(np.array(y)), rows, starts, context
        self.extra = extra or {}
        self.domain = None if domain is None else torch.as_tensor(np.array(domain))
        self.target_rows = target_rows
        self.rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> dict:
        r = int(self.rows[i])
        item = {"x": self.x[r], "y": self.y[r]}
        for name, values in self.extra.items():
            item[f"x_{name}"] = values[r]
        if self.context > 1:
            back = np.maximum(np.arange(r - self.context + 1, r + 1), self.starts[r])
            item["seq"] = self.x[back]
        if self.target_rows is not None:
            item["x_target"] = self.x[int(self.target_rows[self.rng.integers(len(self.target_rows))])]
            item["domain"] = self.domain[i]
        return item


class EEGDataModule(pl.LightningDataModule):
    """One fold's loaders: train (shuffled), val (the fold's validation windows, if any), predict (the test)."""

    def __init__(self, source: EEGSource, fold, cfg, seed: int = 0):
        super().__init__()
        self.source, self.fold, self.cfg, self.seed = source, fold, cfg, seed
        self.batch_size = int(cfg.data.batch_size)
        self.context = int(_opt(cfg, "data.context", 1))
        if self.context < 1:
            raise ConfigError(f"data.context={self.context}: expected >= 1")
        self.transductive = bool(_opt(cfg, "data.transductive", False))
        train = source.rows(list(fold.train))
        x = source.x
        if source.normalize == "train":
            mean, std = x[train].mean(0), x[train].std(0) + 1e-6
            x = (x - mean) / std
        self.x = torch.as_tensor(np.ascontiguousarray(x, dtype=np.float32))
        self.extra = {}
        for name, values in source.peripheral.items():
            if source.normalize == "train":
                values = (values - values[train].mean()) / (values[train].std() + 1e-6)
            self.extra[name] = torch.as_tensor(np.ascontiguousarray(values, dtype=np.float32))
        self.y = source.index["y"].to_numpy()
        self.train_rows, self.val_rows, self.test_rows = train, source.rows(list(fold.val)), source.rows(
            list(fold.test))

    def _dataset(self, rows: np.ndarray, train: bool = False) -> WindowDataset:
        domain = target = None
        if train and self.transductive:
            subjects = self.source.index["subject"].to_numpy()
            order = {s: i for i, s in enumerate(sorted(set(subjects[rows])))}
            domain = np.array([order[s] for s in subjects[rows]])
            target = self.test_rows
        return WindowDataset(self.x, self.y, rows, self.source.previous, self.context, domain, target, self.seed,
                             self.extra)

    def train_dataloader(self):
        generator = torch.Generator().manual_seed(self.seed)
        return DataLoader(self._dataset(self.train_rows, train=True), batch_size=self.batch_size, shuffle=True,
                          generator=generator, num_workers=0, drop_last=len(self.train_rows) > self.batch_size)

    def val_dataloader(self):
        return DataLoader(self._dataset(self.val_rows), batch_size=max(self.batch_size, 256), num_workers=0)

    def predict_dataloader(self):
        return DataLoader(self._dataset(self.test_rows), batch_size=max(self.batch_size, 256), num_workers=0)
