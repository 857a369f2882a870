"""CI regression of the quick pipeline: each experiment's headline metric must stay inside its seed band.

reports/baselines.json holds, per experiment run on the ``quick`` profile, the headline metrics of its task
(UF1 and UAR for micro-expressions and masked emotions, mean AU F1, top-1, Recall@20) measured over several
seeds, and a tolerance band derived from their spread:

    half_width = min(max(k_sigma * std, min_tolerance), max_tolerance),
    band = [mean - half_width, mean + half_width] clipped to [0, 1]

with the sample standard deviation (ddof=1) over seeds. ``k_sigma = 3`` lets a fresh seed of an unchanged
pipeline pass with high probability even with 3 seeds behind the std; ``min_tolerance = 0.02`` keeps a
deterministic method (std 0, e.g. the SVM baselines) from failing on the last digit of a platform difference;
``max_tolerance = 0.06`` keeps every band narrow enough that a model that ignores its input leaves it (the CI
proves it with a negative control, experiments/quick_pipeline.py). CI runs seed 0 of a deterministic pipeline, so
a band only has to hold the platform's rounding, not another seed; a method whose seeds spread more than the cap
shows it in the file (``std``) and in the report. All three are stored in the file and a refresh keeps the values
it finds there, so widening or narrowing the bands is a deliberate edit of the file (said why in its commit),
not a command-line flag.

``affect report --check-regression`` compares results/<name>/<dataset>/metrics.json with the bands and prints
one table; it exits 1 when a metric falls below its band (a regression) or rises above it (suspicious: test
leakage, a changed protocol or data; refresh deliberately once understood), when an experiment with a baseline
has no result, or when the result was run under another profile or on another kind of data than its baseline.
``affect report --refresh-baselines`` re-runs every experiment under several seeds and rewrites the file
(experiments/baselines.py, with the band rules of this module); numbers are never typed in by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.errors import AffectError
from reports.results import data_label, is_standin_data, load_run, number

HEADLINE_METRICS = {
    "mer": ("uf1", "uar"),
    "masked": ("uf1", "uar"),
    "au": ("mean_au_f1",),
    "gesture": ("top1",),
    "rec": ("recall@20",),
    "eeg": ("accuracy",),  # pooled windows, the metric of the evidence rule (reports/evidence.py)
}
K_SIGMA = 3.0
MIN_TOLERANCE = 0.02
MAX_TOLERANCE = 0.06
FAILING = ("DROP", "JUMP", "MISSING", "NOT COMPARABLE")


@dataclass(frozen=True)
class Band:
    mean: float
    std: float
    low: float
    high: float
    n: int

    def as_dict(self, values: list[float]) -> dict:
        return {"mean": self.mean, "std": self.std, "low": self.low, "high": self.high, "n": self.n,
                "values": values}


def tolerance_band(values: list[float], k_sigma: float = K_SIGMA, min_tolerance: float = MIN_TOLERANCE,
                   max_tolerance: float = MAX_TOLERANCE) -> Band:
    """Mean +- min(max(k_sigma * sample std, min_tolerance), max_tolerance), clipped to [0, 1]."""
    if not values:
        raise ValueError("a band needs at least one value")
    array = np.asarray(values, dtype=float)
    std = float(array.std(ddof=1)) if len(array) > 1 else 0.0
    half = min(max(k_sigma * std, min_tolerance), max_tolerance)
    mean = float(array.mean())
    return Band(mean, std, max(0.0, mean - half), min(1.0, mean + half), len(array))


def band_status(value: float, low: float, high: float) -> str:
    if value < low:
        return "DROP"
    if value > high:
        return "JUMP"
    return "ok"


@dataclass(frozen=True)
class CheckRow:
    experiment: str
    metric: str
    value: float | None
    baseline: dict | None
    status: str
    detail: str = ""


def load_baselines(path: Path) -> dict:
    import json

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AffectError("baselines file not found", path=path,
                          hint="run `affect report --refresh-baselines` on the quick pipeline first") from None
    except ValueError as err:
        raise AffectError(f"not valid JSON: {err}", path=path) from None
    if not isinstance(data, dict) or not isinstance(data.get("experiments"), dict):
        raise AffectError('expected {"experiments": {...}, ...}', path=path)
    return data


def check(results_dir: Path, baselines: dict) -> list[CheckRow]:
    """One row per (experiment, metric) with a baseline, plus an info row per result without one."""
    profile = str(baselines.get("profile", "quick"))
    rows: list[CheckRow] = []
    for exp_id, entry in sorted(baselines["experiments"].items()):
        rows.extend(check_experiment(results_dir, exp_id, entry, profile))
    known = set(baselines["experiments"])
    for metrics_file in sorted(results_dir.glob("*/*/metrics.json")) if results_dir.is_dir() else []:
        exp_id = f"{metrics_file.parent.parent.name}/{metrics_file.parent.name}"
        if exp_id not in known:
            rows.append(CheckRow(exp_id, "", None, None, "no baseline",
                                 "not checked: add it with `affect report --refresh-baselines --experiments "
                                 f"{exp_id}`"))
    return rows


def check_experiment(results_dir: Path, exp_id: str, entry: dict, profile: str) -> list[CheckRow]:
    metrics = entry.get("metrics", {})
    name, _, dataset = exp_id.partition("/")
    run, problem = load_run(results_dir / name / dataset)
    if run is None:
        return [CheckRow(exp_id, m, None, b, "MISSING", problem or "no result") for m, b in metrics.items()]
    if run.profile != profile:
        why = f"result ran under profile {run.profile!r}, the baseline under {profile!r}"
        return [CheckRow(exp_id, m, number(run.metrics.get(m)), b, "NOT COMPARABLE", why) for m, b in metrics.items()]
    if is_standin_data(dataset, run) != bool(entry.get("standin", True)):
        why = f"result is on {data_label(dataset, run)} data, the baseline on {entry.get('data', '?')}"
        return [CheckRow(exp_id, m, number(run.metrics.get(m)), b, "NOT COMPARABLE", why) for m, b in metrics.items()]
    rows = []
    for metric, band in metrics.items():
        value = number(run.metrics.get(metric))
        if value is None:
            rows.append(CheckRow(exp_id, metric, None, band, "MISSING", f"metrics.json has no {metric}"))
            continue
        status = band_status(value, float(band["low"]), float(band["high"]))
        detail = {"DROP": "below the band: a regression",
                  "JUMP": "above the band: check for leakage or a changed protocol/data, then refresh "
                          "deliberately"}.get(status, "")
        rows.append(CheckRow(exp_id, metric, value, band, status, detail))
    return rows


def format_table(rows: list[CheckRow]) -> str:
    """A fixed-width table for the terminal and CI logs."""
    header = ("experiment", "metric", "value", "baseline mean ± std (n)", "band", "status", "detail")
    lines = [header]
    for r in rows:
        b = r.baseline or {}
        lines.append((
            r.experiment, r.metric, "—" if r.value is None else f"{r.value:.4f}",
            f"{b['mean']:.4f} ± {b['std']:.4f} ({b['n']})" if b else "—",
            f"[{b['low']:.4f}, {b['high']:.4f}]" if b else "—", r.status, r.detail,
        ))
    widths = [max(len(str(line[i])) for line in lines) for i in range(len(header) - 1)]
    text = []
    for number_, line in enumerate(lines):
        text.append("  ".join(str(c).ljust(w) for c, w in zip(line[:-1], widths)) + "  " + str(line[-1]))
        if number_ == 0:
            text.append("  ".join("-" * w for w in widths) + "  ------")
    return "\n".join(text)


def exit_code(rows: list[CheckRow], allow_missing: bool = False) -> int:
    failing = [r for r in rows if r.status in FAILING and not (allow_missing and r.status == "MISSING")]
    return 1 if failing else 0


def check_command(results_dir: Path, baselines_path: Path, allow_missing: bool = False,
                  expect_drop: bool = False) -> int:
    """Print the check table; exit 0 when every metric is inside its band, or, with ``expect_drop`` (a negative
    control: permuted labels or blank inputs), when every metric of every experiment fell below it."""
    baselines = load_baselines(baselines_path)
    if not baselines["experiments"]:
        raise AffectError("no experiment has a baseline yet", path=baselines_path,
                          hint="run `affect report --refresh-baselines` on the quick pipeline and commit the file")
    rows = check(results_dir, baselines)
    print(f"regression check of {results_dir} against {baselines_path} (profile {baselines.get('profile')}, "
          f"band = mean ± min(max({baselines.get('k_sigma')} std, {baselines.get('min_tolerance')}), "
          f"{baselines.get('max_tolerance', MAX_TOLERANCE)}))")
    print(format_table(rows))
    if expect_drop:
        held = sorted({r.experiment for r in rows if r.baseline is not None and r.status != "DROP"})
        print("negative control: " + ("every experiment DROP (the bands can fail)" if not held else
                                      f"FAILED: {', '.join(held)} did not drop below its band"))
        return 1 if held else 0
    code = exit_code(rows, allow_missing)
    failing = sum(r.status in FAILING for r in rows)
    print("regression check: " + ("passed" if code == 0 else f"FAILED ({failing} metric(s) outside or without "
                                                             "a comparable result)"))
    return code
