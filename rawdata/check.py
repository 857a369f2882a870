"""`affect data check <format> --root DIR`: is this dataset folder usable, and what is in it?

The layout parser (`rawdata.layouts`) finds the sheet and folder problems; this module adds the image
check (every frame is decoded, or only the onset/apex/offset frames with `images="key"`; an unreadable image
is an error) and the counts per subject, class and AU. A dataset is usable when it has at least one clip and
no error; warnings are problems the pipeline handles (e.g. an estimated apex).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd

from rawdata.index import au_set, is_standin
from rawdata.layouts import parse
from rawdata.layouts.common import Problem, Problems

IMAGE_MODES = ("all", "key", "none")


@dataclass
class CheckReport:
    """The result of checking one dataset folder (JSON-ready through `to_dict`)."""

    format: str
    root: str
    standin: bool
    samples: int
    subjects: dict[str, int]
    classes: dict[str, int]
    aus: dict[str, int]
    frames: int
    problems: list[Problem] = field(default_factory=list)
    interactions: dict = field(default_factory=dict)  # recommendation folders: users, items, splits, features
    windows: int = 0  # EEG feature folders: one-second windows over all trials

    @property
    def errors(self) -> int:
        return sum(p.severity == "error" for p in self.problems)

    @property
    def warnings(self) -> int:
        return sum(p.severity == "warning" for p in self.problems)

    @property
    def usable(self) -> bool:
        return self.samples > 0 and self.errors == 0

    def to_dict(self) -> dict:
        out = asdict(self)
        out.update(usable=self.usable, errors=self.errors, warnings=self.warnings)
        return out


def check_dataset(format_name: str, root: str | Path, images: str = "all") -> CheckReport:
    """Parse `root` as `format_name`, decode its images (`images`: all, key or none) and count what it holds."""
    if images not in IMAGE_MODES:
        raise ValueError(f"images must be one of {IMAGE_MODES}, got {images!r}")
    result = parse(format_name, root)
    index = result.index
    problems = Problems(result.problems)
    if images != "none":
        problems += unreadable_images(index, key_only=images == "key")
    if len(index) == 0 and not problems:
        problems.error(root, "no samples found")
    interactions = interaction_summary(index, root) if "x_label" in index else {}
    return CheckReport(
        format=format_name,
        root=str(root),
        standin=is_standin_dataset(format_name, root, index),
        samples=len(index),
        subjects=subject_counts(index),
        classes=column_counts(index, "emotion") or column_counts(index, "label"),  # gesture layouts: label ids
        aus=au_counts(index),
        frames=int(index["frames"].map(len).sum()) if "frames" in index else 0,
        problems=list(problems),
        interactions=interactions,
        windows=int(index["windows"].sum()) if "windows" in index else 0,
    )


def interaction_summary(index: pd.DataFrame, root: str | Path) -> dict:
    """Users, items, split sizes, density and feature sizes of an MMRec folder (its index is the .inter table)."""
    from rawdata.layouts.mmrec import SPLITS, summarize_features

    splits = index["x_label"].map(SPLITS).value_counts()
    n_users, n_items = int(index["userID"].nunique()), int(index["itemID"].nunique())
    return {
        "users": n_users,
        "items": n_items,
        **{name: int(splits.get(name, 0)) for name in SPLITS.values()},
        "density": round(len(index) / max(1, n_users * n_items), 6),
        "features": summarize_features(root),
    }


def is_standin_dataset(format_name: str, root: str | Path, index: pd.DataFrame) -> bool:
    """A composite is a stand-in when every source folder it read is one."""
    if format_name != "composite":
        return is_standin(root)
    return bool(len(index)) and all(is_standin(Path(root) / source) for source in index["dataset"].unique())


def subject_counts(index: pd.DataFrame) -> dict[str, int]:
    """Samples per subject, keyed `<dataset>/<subject>` when several datasets are mixed (composite)."""
    if "subject" not in index or not len(index):
        return {}
    mixed = "dataset" in index and index["dataset"].nunique() > 1
    keys = index["dataset"] + "/" + index["subject"] if mixed else index["subject"]
    return dict(sorted(Counter(keys).items(), key=lambda kv: _natural(kv[0])))


def column_counts(index: pd.DataFrame, column: str) -> dict[str, int]:
    if column not in index:
        return {}
    return dict(Counter(index[column]).most_common())


def au_counts(index: pd.DataFrame) -> dict[str, int]:
    """Samples per AU number (sides merged: L12 and R12 count as 12)."""
    if "aus" not in index:
        return {}
    counts = Counter(au for aus in index["aus"] for au in au_set(aus))
    return dict(sorted(counts.items(), key=lambda kv: int(kv[0]) if kv[0].isdigit() else 1_000))


def _natural(key: str) -> tuple:
    head, _, tail = key.rpartition("/")
    return (head, int(tail)) if tail.isdigit() else (head, 1_000_000, tail)


def unreadable_images(index: pd.DataFrame, key_only: bool = False) -> list[Problem]:
    """An error for every frame that cannot be decoded (all frames, or onset/apex/offset with `key_only`)."""
    import cv2

    if not {"frame_dir", "frames", "frame_numbers"} <= set(index.columns):
        return []
    problems = Problems()
    for row in index.itertuples():
        numbers = dict(zip(row.frame_numbers, row.frames, strict=True))
        names = [numbers[n] for n in (row.onset, row.apex, row.offset) if n in numbers] if key_only else row.frames
        for name in dict.fromkeys(names):
            path = Path(row.frame_dir) / name
            # decoded at 1/8 scale (a JPEG's whole stream is still parsed, about 4x faster than a full decode):
            # what fails here fails the same way in full; the faces stage decodes every frame in full again
            if cv2.imread(str(path), cv2.IMREAD_REDUCED_GRAYSCALE_8) is None:
                problems.error(path, "unreadable image")
    return list(problems)


def format_report(report: CheckReport, max_problems: int = 200) -> str:
    """The human-readable report printed by `affect data check`."""
    kind = "stand-in" if report.standin else "dataset"
    lines = [f"{report.format} {kind} at {report.root}"]
    if report.interactions:
        lines += [_counts_line("interactions", {"total": report.samples, **{
            k: v for k, v in report.interactions.items() if k != "features"}}),
            _counts_line("features (items x dims)", report.interactions.get("features", {}))]
    elif report.windows:  # EEG: trials and windows, no frames or AUs
        lines.append(f"  trials: {report.samples}   subjects: {len(report.subjects)}   windows: {report.windows}")
        lines += [_counts_line("per subject", report.subjects), _counts_line("per class", report.classes)]
    else:
        lines.append(f"  samples: {report.samples}   subjects: {len(report.subjects)}   frames: {report.frames}")
        lines += [_counts_line("per subject", report.subjects), _counts_line("per class", report.classes),
                  _counts_line("per AU", report.aus)]
    shown = report.problems[:max_problems]
    if shown:
        lines.append(f"  problems ({report.errors} errors, {report.warnings} warnings):")
        lines += [f"    {p}" for p in shown]
        if len(report.problems) > len(shown):
            lines.append(f"    ... and {len(report.problems) - len(shown)} more (use --json for all)")
    verdict = "usable" if report.usable else "NOT usable"
    lines.append(f"  {verdict}: {report.errors} errors, {report.warnings} warnings")
    return "\n".join(lines)


def summary_line(report: CheckReport) -> str:
    """One line for pipelines (`affect data check ... --out F`): verdict and counts; the full report is in F."""
    kind = "stand-in" if report.standin else "dataset"
    verdict = "usable" if report.usable else "NOT usable"
    counts = (f"{report.samples} interactions" if report.interactions
              else f"{report.samples} samples, {len(report.subjects)} subjects, {len(report.classes)} classes")
    return (f"check {report.format} {kind} at {report.root}: {verdict}, {counts}, {report.errors} errors, "
            f"{report.warnings} warnings")


def _counts_line(title: str, counts: dict[str, int]) -> str:
    body = ", ".join(f"{k}: {v}" for k, v in counts.items()) if counts else "none"
    return f"  {title}: {body}"
