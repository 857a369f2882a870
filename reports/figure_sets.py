"""Which figures each experiment gets, from its results files; drawing is deferred to reports/render.py.

Per task (evidence at a glance): every experiment's headline metric, one dot per seed, its mean and its trivial
floor, stand-in and real results in separate panels. Per experiment (reference run): confusion matrix (and the
disguise one for masked emotions; per-class F1 is its diagonal, not drawn again), per-subject LOSO UF1, per-AU F1
with the all-positive floor, training curves from MLflow, and the 2-D arrays a method exposes in
interpretation.json (DeRe-GRL's component -> action map, relation weights, per-class action importance). Across
experiments: LBP-SDG by direction family, BeFA attribution (base models and BeFA variants). Every title or caption
carries the data label, so a stand-in figure is never taken for a real one.

Functions here only decide what to draw and with which data; each figure becomes a :class:`FigureJob` naming a
module-level drawing function of reports/plots.py and the files it depends on, so reports/render.py can skip a
figure whose PNG is newer than its inputs and draw the rest in parallel.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.io import atomic_path
from core.landmarks import FACE_COMPONENTS
from core.metrics import all_positive_au_f1
from reports import plots
from reports.curves import CurveReader
from reports.figures import confusion_matrix_figure
from reports.results import Experiment, SeedRun, read_json, summarise

MAX_HEATMAP_SIDE = 100
MAX_ANNOTATED_CLASSES = 12
MAX_ATTRIBUTION_PANELS = 6
LBP_SDG = "lbp_sdg"
LBP_TOP_ALONE = "lbptop_svm"
RESULT_FILES = ("metrics.json", "details.json", "predictions.csv", "interpretation.json", "attribution.json",
                "attribution.png", "run.json")


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "__", text)


@dataclass
class FigureJob:
    """One PNG to draw: ``draw(path, *args)`` with ``draw`` a module-level function (picklable)."""

    path: Path
    caption: str
    draw: Callable
    args: tuple
    inputs: tuple[Path, ...]


@dataclass
class FigureSet:
    """The figures planned for one experiment (or one cross-experiment view) and notes on those left out."""

    fig_dir: Path
    prefix: str
    inputs: tuple[Path, ...] = ()
    jobs: list[FigureJob] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def path(self, kind: str) -> Path:
        return self.fig_dir / f"{self.prefix}__{kind}.png"

    def add(self, kind: str, caption: str, draw: Callable, *args, inputs: tuple[Path, ...] | None = None) -> None:
        self.jobs.append(FigureJob(self.path(kind), caption, draw, args, self.inputs if inputs is None else inputs))


def run_inputs(run: SeedRun) -> tuple[Path, ...]:
    return tuple(run.folder / name for name in RESULT_FILES if (run.folder / name).is_file())


def experiment_figures(e: Experiment, fig_dir: Path, reader: CurveReader | None,
                       is_fresh: Callable[[Path, tuple[Path, ...]], bool]) -> FigureSet:
    """Plan the figures of one finished experiment (``is_fresh`` spares MLflow reads for up-to-date curves)."""
    run = e.reference
    out = FigureSet(fig_dir, slug(e.exp_id), run_inputs(run) if run else ())
    if run is None:
        return out
    m, label = run.metrics, f"{e.exp_id} [{e.data_label}, seed {run.seed}]"
    if _has_confusion(m):  # drawn from details.json (the runner draws nothing)
        out.add("confusion", f"Confusion matrix, {label}", confusion, m["confusion_matrix"], m["class_names"], label)
    if isinstance(m.get("disguise"), dict) and _has_confusion(m["disguise"]):
        out.add("confusion_disguise", f"Disguised-expression confusion matrix, {label}", confusion,
                m["disguise"]["confusion_matrix"], m["disguise"]["class_names"], f"{label} disguise")
    if isinstance(m.get("per_subject"), dict) and m["per_subject"]:
        subjects = m["per_subject"]
        out.add("per_subject", f"Per-subject LOSO UF1 (bars) and accuracy (marks), {label}", plots.bar_figure,
                list(subjects), [_get(subjects[s], "uf1") for s in subjects], f"per-subject UF1 (LOSO): {label}",
                "UF1", None, [_get(subjects[s], "accuracy") for s in subjects], "accuracy", e.standin)
    if isinstance(m.get("au_f1"), dict) and m["au_f1"]:
        names, floor = list(m["au_f1"]), all_positive_floor(run)
        out.add("per_au_f1", f"Per-AU F1 with the all-positive floor (marks), {label}", plots.bar_figure,
                [f"AU{n}" for n in names], [m["au_f1"][n] for n in names], f"per-AU F1: {label}", "F1", None,
                [floor.get(n) for n in names] if floor else None, "all-positive", e.standin)
    if reader is not None:
        _add_curves(out, reader, run, label, is_fresh)
    _add_interpretation(out, run, label)
    return out


def evidence_figure(task: str, title: str, experiments: list[Experiment], fig_dir: Path, metric: str,
                    metric_label: str, floor_of) -> FigureSet:
    """One chart of a task: every experiment's ``metric`` per seed with its mean and its floor (``floor_of(e)``),
    stand-in and real results in separate panels."""
    out = FigureSet(fig_dir, f"evidence__{slug(task)}")
    panels: dict[str, list] = {}
    standin_panels = set()
    for e in sorted(experiments, key=lambda e: (e.standin, e.dataset, e.name)):
        panels.setdefault(e.data_label, []).append((e.exp_id, e.values(metric), floor_of(e)))
        if e.standin:
            standin_panels.add(e.data_label)
    if not any(values for rows in panels.values() for _, values, _ in rows):
        return out
    out.add("spread", f"{title}: {metric_label} of every experiment (dots: seeds; bar: mean; black tick: trivial "
            "floor); stand-in and real data in separate panels", plots.seed_spread_figure, panels,
            f"{title}: {metric_label}", metric_label, sorted(standin_panels),
            inputs=tuple(p for e in experiments for r in e.runs for p in run_inputs(r)))
    return out


def _has_confusion(metrics: dict) -> bool:
    return isinstance(metrics.get("confusion_matrix"), list) and isinstance(metrics.get("class_names"), list)


def _get(value, key: str):
    return value.get(key) if isinstance(value, dict) else None


def confusion(path: Path, matrix, class_names, title: str) -> Path:
    """reports/figures.py's confusion matrix; beyond MAX_ANNOTATED_CLASSES a row-normalised heatmap without the
    per-cell counts (32 x 32 numbers are unreadable, and slow to draw)."""
    if len(class_names) <= MAX_ANNOTATED_CLASSES:
        return confusion_matrix_figure(matrix, class_names, path, title=title)
    counts = np.asarray(matrix, dtype=float)
    normalised = counts / np.maximum(counts.sum(1, keepdims=True), 1)
    return plots.heatmap_figure(path, normalised, class_names, class_names, f"{title} (row-normalised)", "true",
                                "predicted")


def all_positive_floor(run: SeedRun | None) -> dict[str, float | None]:
    """Per-AU F1 of predicting every AU present, from the ``au_true_<AU>`` columns of predictions.csv."""
    import pandas as pd

    path = run.folder / "predictions.csv" if run else None
    if path is None or not path.is_file():
        return {}
    columns = [c for c in pd.read_csv(path, nrows=0).columns if c.startswith("au_true_")]
    if not columns:
        return {}
    truth = pd.read_csv(path, usecols=columns)[columns].to_numpy()
    return all_positive_au_f1(truth, [c[len("au_true_"):] for c in columns])["au_f1"]


def _add_curves(out: FigureSet, reader: CurveReader, run: SeedRun, label: str, is_fresh) -> None:
    path, caption = out.path("curves"), f"Training curves from MLflow (one faint line per fold), {label}"
    if is_fresh(path, out.inputs):
        out.add("curves", caption, plots.curves_figure, {}, "")  # up to date: not redrawn, MLflow not read
        return
    curves, problem = reader.curves(run.run)
    if problem:
        out.notes.append(f"training curves: {problem}")
    elif not curves:
        out.notes.append("training curves: no per-epoch metrics logged in MLflow")
    else:
        out.add("curves", caption, plots.curves_figure, curves, f"training curves: {label}")


def _add_interpretation(out: FigureSet, run: SeedRun, label: str) -> None:
    data, problem = read_json(run.folder / "interpretation.json")
    if data is None:
        if problem and "missing" not in problem:
            out.notes.append(problem)
        return
    for key, stats in (data.get("summary") or {}).items():
        mean = np.asarray(stats.get("mean", []) if isinstance(stats, dict) else [], dtype=float)
        if mean.ndim != 2 or max(mean.shape) > MAX_HEATMAP_SIDE:
            continue
        rows, cols, row_title, col_title = interpretation_labels(key, mean.shape, run.metrics.get("class_names"))
        out.add(f"interpretation_{slug(key)}", f"{key} (mean over {data.get('n_folds', '?')} folds), {label}",
                plots.heatmap_figure, mean, rows, cols, f"{key}: {label}", row_title, col_title)


def interpretation_labels(key: str, shape: tuple[int, int], class_names) -> tuple[list, list, str, str]:
    """Axis labels of the arrays DeRe-GRL exposes (lightning_modules/dere_grl/network.py); indices otherwise."""
    rows = [str(i) for i in range(shape[0])]
    cols = [str(i) for i in range(shape[1])]
    actions = [f"action {i}" for i in range(max(shape))]
    if key == "component_to_action":
        components = list(FACE_COMPONENTS)
        return actions[:shape[0]], components if len(components) == shape[1] else cols, "action", "component"
    if key == "relation_weights":
        return actions[:shape[0]], actions[:shape[1]], "action", "related action"
    if key == "action_class_importance":
        classes = class_names if isinstance(class_names, list) and len(class_names) == shape[0] else rows
        return list(classes), actions[:shape[1]], "class", "action"
    return rows, cols, "", ""


def direction_family(e: Experiment) -> str:
    """``lbp_sdg`` -> one direction chosen per fold on inner validation (the paper's protocol); ``lbp_sdg-all``
    -> the 9 distinct directions together; ``lbp_sdg-<family>`` -> that family; LBP-TOP alone -> none."""
    if e.name == LBP_TOP_ALONE:
        return "none (LBP-TOP alone)"
    if e.name == LBP_SDG:
        return "best single (inner validation)"
    if e.name == LBP_SDG + "-all":
        return "all 9 distinct"
    return e.name[len(LBP_SDG) + 1:]


def direction_choices(e: Experiment) -> list[dict]:
    """Per candidate direction of ``lbp_sdg`` (directions=best): how often the folds chose it and its mean inner
    UF1, from interpretation.json (training subjects only), or [] when the run holds no such record."""
    if e.name != LBP_SDG or not e.reference:
        return []
    data, _ = read_json(e.reference.folder / "interpretation.json")
    summary = (data or {}).get("summary", {})
    names = (data or {}).get("labels", {}).get("direction_names")
    if not names or "chosen_direction" not in summary:
        return []
    chosen, inner = summary["chosen_direction"]["mean"], summary.get("inner_uf1", {}).get("mean", [None] * len(names))
    folds = int(data.get("n_folds", 0))
    return [{"direction": n, "chosen_share": c, "chosen_folds": round(c * folds), "inner_uf1": u}
            for n, c, u in zip(names, chosen, inner, strict=True)]


def direction_experiments(experiments: list[Experiment]) -> list[Experiment]:
    return [e for e in experiments if e.runs and e.task == "mer"
            and (e.name == LBP_SDG or e.name.startswith(LBP_SDG + "-") or e.name == LBP_TOP_ALONE)]


def direction_figures(experiments: list[Experiment], fig_dir: Path) -> FigureSet:
    """One grouped bar chart per dataset: UF1 and UAR (mean +- std over seeds) of each direction family."""
    out = FigureSet(fig_dir, "lbp_sdg_directions")
    chosen = direction_experiments(experiments)
    for dataset in sorted({e.dataset for e in chosen}):
        group = sorted((e for e in chosen if e.dataset == dataset), key=direction_family)
        if not any(e.name != LBP_TOP_ALONE for e in group):
            continue
        stats = {key: [summarise(e.values(key)) for e in group] for key in ("uf1", "uar")}
        series = {key.upper(): [s.mean if s else None for s in values] for key, values in stats.items()}
        errors = {key.upper(): [s.std if s and s.std else 0.0 for s in values] for key, values in stats.items()}
        labels = ", ".join(sorted({e.data_label for e in group}))
        out.add(dataset, f"LBP-SDG by HSDG direction family on {dataset} [{labels}]", plots.grouped_bar_figure,
                [direction_family(e) for e in group], series, f"LBP-SDG directions: {dataset} [{labels}]", "score",
                errors, inputs=tuple(p for e in group for r in e.runs for p in run_inputs(r)))
    return out


def attribution_experiments(experiments: list[Experiment]) -> list[Experiment]:
    """Recommendation experiments whose run wrote a BeFA attribution analysis (attribution.json)."""
    return [e for e in experiments if e.reference and (e.reference.folder / "attribution.json").is_file()]


def attribution_shares(e: Experiment) -> dict[str, dict]:
    """{modality: summary} of attribution.json (format: lightning_modules/befa/attribution.py); {} if unreadable."""
    data, _ = read_json(e.reference.folder / "attribution.json") if e.reference else (None, None)
    modalities = (data or {}).get("modalities")
    return {str(m): s for m, s in modalities.items() if isinstance(s, dict)} if isinstance(modalities, dict) else {}


def attribution_figures(experiments: list[Experiment], fig_dir: Path) -> FigureSet:
    """Each run's own attribution chart (attribution.png, drawn by the recommendation task) and, per dataset,
    the share of attribution on the truly informative dimensions of every model (stand-ins with ground truth)."""
    out = FigureSet(fig_dir, "attribution")
    chosen = attribution_experiments(experiments)
    for e in chosen:
        chart = e.reference.folder / "attribution.png"
        if chart.is_file():
            out.add(slug(e.exp_id), f"Attribution per content dimension, {e.exp_id} [{e.data_label}]", copy_png,
                    chart, inputs=(chart,))
    for dataset in sorted({e.dataset for e in chosen}):
        group = [e for e in chosen if e.dataset == dataset]
        shares = {e.name: {m: s.get("informative_share") for m, s in attribution_shares(e).items()} for e in group}
        modalities = sorted({m for per_model in shares.values() for m, v in per_model.items() if v is not None})
        if not modalities:
            continue
        labels = ", ".join(sorted({e.data_label for e in group}))
        series = {m: [shares[e.name].get(m) for e in group] for m in modalities}
        out.add(f"informative_share__{slug(dataset)}",
                f"Share of attribution on the informative dimensions, base models and BeFA variants, {dataset} "
                f"[{labels}]", plots.grouped_bar_figure, [e.name for e in group], series,
                f"attribution on informative dims: {dataset} [{labels}]", "share of |IG|",
                inputs=tuple(e.reference.folder / "attribution.json" for e in group))
    return out


def copy_png(path: Path, source: Path) -> Path:
    """A PNG another stage drew, copied into the report's figures (atomically)."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(Path(source).read_bytes())
    return path


def low_resolution_panels(path: Path) -> dict[str, dict[str, list[tuple[float, float]]]]:
    """{model: {restoration: [(resolution px, UF1)]}} from benchmarks/results/low_resolution.json (format:
    benchmarks/low_resolution.py); the undegraded point (sr "none") starts every restoration's line. {} if the file
    is missing or unreadable."""
    data, _ = read_json(path) if path.is_file() else (None, None)
    runs = data.get("runs") if isinstance(data, dict) else None
    if not isinstance(runs, list):
        return {}
    panels: dict[str, dict[str, list[tuple[float, float]]]] = {}
    for model in ("lbptop_svm", "ststnet"):
        full = [(r["resolution"], r[model]["uf1"]) for r in runs if r.get("sr") == "none" and model in r]
        methods = sorted({r.get("sr") for r in runs if r.get("sr") != "none" and model in r})
        lines = {m: full + [(r["resolution"], r[model]["uf1"]) for r in runs if r.get("sr") == m and model in r]
                 for m in methods}
        if lines:
            panels[model] = lines
    return panels


LOWRES_TABLES = {"holdout_database": "holdout-database UF1", "conditions": "composite LOSO UF1"}


def lowres_method_panels(path: Path) -> dict[str, dict[str, dict[str, list[tuple[float, float]]]]]:
    """{table: {restoration: {MER method: [(resolution px, UF1)]}}} from benchmarks/results/
    low_resolution_methods.json (format: benchmarks/occlusion.py --study lowres; conditions `clean` and
    `x<factor>-<restoration>`, complete rows only); the clean point starts every line. {} if missing."""
    data, _ = read_json(path) if path.is_file() else (None, None)
    if not isinstance(data, dict):
        return {}
    size = int(data.get("crop_size", 128))
    out: dict[str, dict[str, dict[str, list[tuple[float, float]]]]] = {}
    for table in LOWRES_TABLES:
        rows = data.get(table)
        if not isinstance(rows, dict):
            continue
        clean = {m: r["uf1"] for m, r in rows.get("clean", {}).items()
                 if isinstance(r, dict) and r.get("complete", True) and "uf1" in r}
        panels: dict[str, dict[str, list[tuple[float, float]]]] = {}
        for condition, by_method in rows.items():
            head, _, restoration = condition.partition("-")
            if not (head.startswith("x") and head[1:].isdigit() and restoration and isinstance(by_method, dict)):
                continue
            for method, row in by_method.items():
                if method in clean and isinstance(row, dict) and row.get("complete", True) and "uf1" in row:
                    line = panels.setdefault(restoration, {}).setdefault(method, [(size, clean[method])])
                    line.append((size // int(head[1:]), row["uf1"]))
        if panels:
            out[table] = panels
    return out


def low_resolution_figures(path: Path, fig_dir: Path) -> FigureSet:
    """UF1 against face resolution per restoration method, LBP-TOP + SVM and STSTNet (stand-in composite)."""
    out = FigureSet(fig_dir, "low_resolution", inputs=(path,))
    panels = low_resolution_panels(path)
    if panels:
        out.add("uf1", "Composite LOSO UF1 against face resolution, per super-resolution method [stand-in]",
                plots.resolution_figure, panels, "Low-resolution study: UF1 vs face resolution [stand-in]")
    methods_path = path.with_name("low_resolution_methods.json")
    for table, panels in lowres_method_panels(methods_path).items():
        out.add(f"methods_{table}", f"Every MER method: {LOWRES_TABLES[table]} against face resolution, one panel "
                "per restoration [stand-in]", plots.resolution_figure, panels,
                f"Low-resolution study, every MER method: {LOWRES_TABLES[table]} vs face resolution [stand-in]",
                inputs=(methods_path,))
    return out
