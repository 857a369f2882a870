"""The MEGC2019 composite dataset: CASME II + SAMM + SMIC-HS in three classes (negative, positive, surprise).

Mapping (See et al., "MEGC 2019 - the second facial micro-expressions grand challenge", FG 2019; also
../shared/reference/datasets.md): positive <- CASME II happiness, SAMM Happiness, SMIC positive; negative <-
CASME II disgust and repression, SAMM Anger, Contempt, Disgust, Fear and Sadness, SMIC negative; surprise <-
surprise in all three; CASME II others/fear/sadness and SAMM Other are dropped.

Which samples belong to it is fixed by an explicit list, `composite_samples.csv` (dataset, subject, clip,
label: 442 rows, CASME II 145 = 88/32/25 negative/positive/surprise, SAMM 133 = 92/26/15, SMIC 164 = 70/51/43).
How it was derived: the sample ids (not code) of `combined_3_class2_for_optical_flow.csv` in the public HTNet
repository (Wang et al. 2024, github.com/wangzhifengharrison/HTNet), whose per-source class counts match the
challenge's published counts exactly; SMIC clip names were rewritten to the dataset's folder names (`s1_ne_01`)
and subjects normalised. Public loaders disagree on which two CASME II disgust/repression clips the challenge
excluded (the mapping alone gives 147, the challenge 145); this list settles it one way and says so.

* A licensed copy is filtered by the shipped list: listed samples missing from the copy are warnings (the
  composite is then smaller than the challenge's), a sample whose own label maps to another class than the
  list's is a warning (the list wins).
* A stand-in has its own clip names, so its list is generated from the mapping (:func:`derive_sample_list`).

The composite index keeps the source `dataset` and `subject` (LOSO folds key subjects by (dataset, subject)),
sets `emotion` to the composite class and keeps the source label in `source_emotion`.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from core.errors import DatasetError
from rawdata.index import is_standin, normalise_subject
from rawdata.layouts import parse as parse_format
from rawdata.layouts.common import ParseResult, Problems, index_frame

CLASSES = ("negative", "positive", "surprise")
SOURCES = ("casme2", "samm", "smic")
EMOTION_TO_CLASS: dict[str, dict[str, str]] = {
    "casme2": {"happiness": "positive", "disgust": "negative", "repression": "negative", "surprise": "surprise"},
    "samm": {"happiness": "positive", "anger": "negative", "contempt": "negative", "disgust": "negative",
             "fear": "negative", "sadness": "negative", "surprise": "surprise"},
    "smic": {"positive": "positive", "negative": "negative", "surprise": "surprise"},
}
SAMPLE_LIST = Path(__file__).with_name("composite_samples.csv")
LIST_COLUMNS = ("dataset", "subject", "clip", "label")
KEY = ["dataset", "subject", "clip"]


def composite_class(dataset: str, emotion: str) -> str | None:
    """The composite class of a source label, or None when the composite drops it."""
    return EMOTION_TO_CLASS[dataset].get(emotion.lower())


def load_sample_list(path: str | Path = SAMPLE_LIST) -> pd.DataFrame:
    """Read and check a sample list (columns dataset, subject, clip, label)."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError("composite sample list not found", path=path)
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in LIST_COLUMNS if c not in frame.columns]
    if missing:
        raise DatasetError(f"sample list lacks columns {missing} (expected {list(LIST_COLUMNS)})", path=path)
    bad = frame[~frame["dataset"].isin(SOURCES) | ~frame["label"].isin(CLASSES)]
    if len(bad):
        row = int(bad.index[0]) + 2
        raise DatasetError(f"row {row}: dataset must be one of {SOURCES} and label one of {CLASSES}", path=path)
    frame["subject"] = frame["subject"].map(normalise_subject)
    if frame.duplicated(KEY).any():
        raise DatasetError("sample list repeats a (dataset, subject, clip)", path=path)
    return frame[list(LIST_COLUMNS)]


def derive_sample_list(index: pd.DataFrame) -> pd.DataFrame:
    """The list a stand-in uses: every sample whose label the composite keeps."""
    labels = [composite_class(d, e) for d, e in zip(index["dataset"], index["emotion"], strict=True)]
    frame = index[KEY].assign(label=labels)
    return frame[frame["label"].notna()].reset_index(drop=True)


def select_samples(index: pd.DataFrame, sample_list: pd.DataFrame, list_file: str,
                   problems: Problems) -> pd.DataFrame:
    """The samples of one source `index` that the list names, with `emotion` set to the list's class."""
    dataset = index["dataset"].iloc[0] if len(index) else None
    wanted = sample_list[sample_list["dataset"] == dataset]
    merged = index.merge(wanted, on=KEY, how="inner")
    absent = wanted.merge(index[KEY], on=KEY, how="left", indicator=True)
    absent = absent[absent["_merge"] == "left_only"]
    if len(absent):
        shown = ", ".join(f"{r.subject}/{r.clip}" for r in absent.head(5).itertuples())
        problems.warning(list_file, f"{len(absent)} {dataset} samples of the list are not in the dataset "
                                    f"(e.g. {shown}); the composite is smaller than listed")
    own = merged["emotion"].map(lambda e: composite_class(dataset, e))
    disagree = merged[own != merged["label"]]
    for row in disagree.head(10).itertuples():
        problems.warning(list_file, f"{row.sample_id}: label {row.emotion!r} maps to "
                                    f"{composite_class(dataset, row.emotion)}, the list says {row.label}; "
                                    f"the list is used")
    return merged.assign(source_emotion=merged["emotion"], emotion=merged["label"]).drop(columns="label")


def build_composite(indexes: dict[str, pd.DataFrame], lists: dict[str, pd.DataFrame], list_files: dict[str, str],
                    problems: Problems) -> pd.DataFrame:
    """Concatenate the selected samples of each source (`lists[source]` says which)."""
    parts = [select_samples(indexes[s], lists[s], list_files[s], problems) for s in SOURCES if len(indexes[s])]
    if not parts:
        return index_frame([]).assign(source_emotion=pd.Series(dtype=object))
    return pd.concat(parts, ignore_index=True)


def parse_sources(roots: dict[str, str | Path], sample_list: str | Path = SAMPLE_LIST) -> ParseResult:
    """Parse the three source datasets (`roots[source]`, each in its own format) into the composite.

    A stand-in source uses a list derived from its own labels; a licensed source is filtered by `sample_list`.
    """
    problems = Problems()
    indexes, lists, list_files = {}, {}, {}
    for source in SOURCES:
        root = Path(roots[source])
        if not root.is_dir():
            problems.error(root, f"{source} folder not found (the composite needs casme2, samm and smic)")
            indexes[source] = index_frame([])
            continue
        result = parse_format(source, root)
        problems += result.problems
        indexes[source] = result.index
        if is_standin(root):
            lists[source], list_files[source] = derive_sample_list(result.index), f"{root} (derived list)"
        else:
            lists[source], list_files[source] = load_sample_list(sample_list), str(sample_list)
    return ParseResult(build_composite(indexes, lists, list_files, problems), problems)


def parse(root: str | Path) -> ParseResult:
    """`affect data check composite --root data/raw`: `root` holds casme2/, samm/ and smic/."""
    root = Path(root)
    return parse_sources({source: root / source for source in SOURCES})
