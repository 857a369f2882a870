"""The comparison tables: measured (stand-in and real data in separate columns) next to reported, and the gap.

One table per task and dataset. For every metric that papers report there are four columns: measured on
stand-in data, measured on real data, the reported number (with a citation number) and the gap, which is
measured-on-real minus reported and is left empty for stand-in results: a synthetic CASME II says nothing about
how far a re-implementation is from the paper. Metrics no paper reports (accuracy, the all-positive floor) get
the two measured columns only. Several seeds show as mean +- sample std (n).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from reports.document import Cell, Table
from reports.reported import Lookup, Reported, gap, lookup
from reports.results import Experiment, Summary, composite_parts, number, summarise

DASH = "—"


@dataclass(frozen=True)
class MetricColumn:
    key: str
    label: str
    reported: bool = True  # papers report it: add "reported" and "gap" columns


@dataclass(frozen=True)
class TaskTable:
    title: str
    metrics: tuple[MetricColumn, ...]


TASK_TABLES = {
    "mer": TaskTable("Micro-expression recognition", (
        MetricColumn("uf1", "UF1"), MetricColumn("uar", "UAR"), MetricColumn("accuracy", "Acc", reported=False))),
    "au": TaskTable("Micro-AU detection", (
        MetricColumn("mean_au_f1", "mean AU F1"), MetricColumn("all_positive_floor", "all-positive floor", False),
        MetricColumn("label_free_uf1", "label-free UF1"), MetricColumn("label_free_uar", "label-free UAR"))),
    "masked": TaskTable("Masked emotions", (
        MetricColumn("uf1", "true-emotion UF1"), MetricColumn("uar", "true-emotion UAR"),
        MetricColumn("disguise_uf1", "disguise UF1"), MetricColumn("disguise_uar", "disguise UAR"))),
    "gesture": TaskTable("Micro-gesture recognition", (
        MetricColumn("top1", "top-1"), MetricColumn("top5", "top-5"), MetricColumn("uf1", "UF1", reported=False))),
    "rec": TaskTable("Multimedia recommendation", (
        MetricColumn("recall@10", "R@10"), MetricColumn("recall@20", "R@20"),
        MetricColumn("ndcg@10", "N@10"), MetricColumn("ndcg@20", "N@20"))),
}


class Citations:
    """Numbers citations in order of first use (the report's reference list)."""

    def __init__(self):
        self.items: list[str] = []

    def number(self, citation: str) -> int | None:
        if not citation:
            return None
        if citation not in self.items:
            self.items.append(citation)
        return self.items.index(citation) + 1


@dataclass
class Row:
    """One table row: a measured experiment (or one part of a composite), or a reference-only paper number."""

    label: str
    part: str
    lookup_method: str
    lookup_dataset: str
    protocol: str
    values: dict[str, Summary | None] = field(default_factory=dict)
    data: str = ""
    standin: bool = True
    seeds: str = ""
    notes: str = ""
    measured: bool = True


def measured_rows(experiment: Experiment, metrics: tuple[MetricColumn, ...]) -> list[Row]:
    """The experiment's row, and for a composite one row per source dataset (from predictions.csv)."""
    base = dict(lookup_method=experiment.name, protocol=experiment.protocol, data=experiment.data_label,
                standin=experiment.standin, seeds=_seeds_text(experiment), notes="; ".join(experiment.notes))
    rows = [Row(experiment.name, "all" if experiment.task == "mer" else "", lookup_dataset=experiment.dataset,
                values={m.key: summarise(experiment.values(m.key)) for m in metrics}, **base)]
    if experiment.task != "mer":
        return rows
    parts: dict[str, list[dict]] = {}
    for run in experiment.runs:
        for part, scores in composite_parts(run).items():
            parts.setdefault(part, []).append(scores)
    for part, per_seed in sorted(parts.items()):
        values = {m.key: summarise([v for v in (number(s.get(m.key)) for s in per_seed) if v is not None])
                  for m in metrics}
        rows.append(Row(experiment.name, part, lookup_dataset=f"{experiment.dataset}:{part}", values=values,
                        **{**base, "notes": f"{part} part of the pooled predictions"}))
    return rows


def reference_rows(reported: list[Reported], dataset: str, shown_methods: set[str]) -> list[Row]:
    """Paper numbers on this dataset (or its composite parts) for methods without a measured row."""
    keys: dict[tuple[str, str], Row] = {}
    for row in reported:
        if row.value is None or row.method in shown_methods:
            continue
        base, _, part = row.dataset.partition(":")
        if base != dataset:
            continue
        keys.setdefault((row.method, row.dataset), Row(
            f"{row.method} (reported only)", part or "all", row.method, row.dataset, row.protocol,
            data=DASH, seeds=DASH, notes=row.note, measured=False))
    return sorted(keys.values(), key=lambda r: (r.label, r.part != "all", r.part))


def comparison_table(task: str, dataset: str, experiments: list[Experiment], reported: list[Reported],
                     citations: Citations) -> Table:
    spec = TASK_TABLES.get(task, TASK_TABLES["mer"])
    rows = [row for e in experiments for row in measured_rows(e, spec.metrics)]
    rows += reference_rows(reported, dataset, {e.name for e in experiments})
    with_part = any(r.part not in ("", "all") for r in rows)
    columns = ["Method"] + (["Part"] if with_part else []) + ["Data", "Seeds"]
    for metric in spec.metrics:
        columns += [f"{metric.label} measured on stand-in", f"{metric.label} measured on real data"]
        if metric.reported:
            columns += [f"{metric.label} reported", f"{metric.label} gap (real − reported)"]
    columns.append("Notes")
    body = [_table_row(row, spec.metrics, reported, citations, with_part) for row in rows]
    return Table(columns, body, caption=f"{spec.title}: {dataset}")


def _table_row(row: Row, metrics: tuple[MetricColumn, ...], reported: list[Reported], citations: Citations,
               with_part: bool) -> list[Cell]:
    kind = "standin" if row.standin else "real"
    cells = [Cell(row.label)] + ([Cell(row.part)] if with_part else [])
    cells += [Cell(row.data, style=kind if row.measured else "muted"), Cell(row.seeds)]
    for metric in metrics:
        cells += measured_cells(row, metric)
        if metric.reported:
            found = lookup(reported, row.lookup_method, row.lookup_dataset, row.protocol, metric.key)
            if not row.measured and found.value is None:
                cells += [Cell(DASH, style="muted"), Cell(DASH, style="muted")]
                continue
            cells += [reported_cell(found, citations), gap_cell(row, metric, found)]
    cells.append(Cell(row.notes))
    return cells


def measured_cells(row: Row, metric: MetricColumn) -> list[Cell]:
    """(stand-in cell, real-data cell): the measured value goes in exactly one of them."""
    if not row.measured:
        return [Cell(DASH, style="muted"), Cell(DASH, style="muted")]
    summary = row.values.get(metric.key)
    text = summary.text() if summary else "n/a"
    if row.standin:
        return [Cell(text, style="standin"), Cell(DASH, style="muted")]
    return [Cell(DASH, style="muted"), Cell(text, style="real")]


def reported_cell(found: Lookup, citations: Citations) -> Cell:
    ref = citations.number(found.citation) if found.citation else None
    style = "" if found.value is not None and found.comparable else "muted"
    return Cell(found.text, ref=ref, style=style)


def gap_cell(row: Row, metric: MetricColumn, found: Lookup) -> Cell:
    """Measured on real data minus reported; stand-in rows never get a gap."""
    if not row.measured:
        return Cell(DASH, style="muted")
    if row.standin:
        return Cell("— (stand-in: no gap)", style="muted")
    summary = row.values.get(metric.key)
    difference = gap(summary.mean if summary else None, found)
    if difference is None:
        return Cell(DASH, style="muted")
    return Cell(f"{difference:+.4f}", style="gap-neg" if difference < 0 else "gap-pos")


def _seeds_text(experiment: Experiment) -> str:
    seeds = experiment.seeds
    if not seeds:
        return str(len(experiment.runs))
    return str(seeds[0]) if len(seeds) == 1 else f"{len(seeds)} ({', '.join(map(str, seeds))})"


def per_au_table(experiments: list[Experiment], floors: dict[str, dict[str, float | None]]) -> Table | None:
    """Per-AU F1 of each AU experiment (mean over seeds) and each one's all-positive floor."""
    names: list[str] = []
    for e in experiments:
        for run in e.runs:
            for au in (run.metrics.get("au_f1") or {}):
                if au not in names:
                    names.append(au)
    if not names:
        return None
    body = []
    for e in experiments:
        per_au = {au: summarise([v for v in (number((r.metrics.get("au_f1") or {}).get(au)) for r in e.runs)
                                 if v is not None]) for au in names}
        style = "standin" if e.standin else "real"
        body.append([Cell(e.exp_id), Cell(e.data_label, style=style)]
                    + [Cell(per_au[au].text(3) if per_au[au] else "no positives") for au in names])
        if e.exp_id in floors:
            floor = floors[e.exp_id]
            body.append([Cell(f"{e.exp_id}: all-positive floor"), Cell(e.data_label, style=style)]
                        + [Cell(f"{floor[au]:.3f}" if floor.get(au) is not None else "no positives", style="muted")
                           for au in names])
    return Table(["Experiment", "Data"] + [f"AU{au}" for au in names], body,
                 caption="Per-AU F1 (positive class) on pooled predictions; the floor predicts every AU present")


def direction_table(experiments: list[Experiment], family_of) -> Table:
    """LBP-SDG per direction family (plus LBP-TOP alone when run): UF1 and UAR per dataset."""
    body = []
    for e in experiments:
        uf1, uar = summarise(e.values("uf1")), summarise(e.values("uar"))
        style = "standin" if e.standin else "real"
        body.append([Cell(e.dataset), Cell(family_of(e)), Cell(e.exp_id), Cell(e.data_label, style=style),
                     Cell(uf1.text() if uf1 else "n/a", style=style), Cell(uar.text() if uar else "n/a", style=style)])
    return Table(["Dataset", "Directions", "Experiment", "Data", "UF1", "UAR"], body,
                 caption="LBP-SDG: which HSDG directions discriminate best (one experiment per direction family)")


def direction_sweep_table(experiment: Experiment, rows: list[dict]) -> Table:
    """Every single HSDG direction of a tuned LBP-SDG: the inner-validation UF1 that selected one, and the test
    UF1/UAR of each (the paper's per-direction comparison; shown, never used to choose)."""
    body = []
    style = "standin" if experiment.standin else "real"
    for row in sorted(rows, key=lambda r: -(number(r.get("valid_uf1")) or -1.0)):
        chosen = bool(row.get("chosen"))
        cells = [number(row.get(k)) for k in ("valid_uf1", "test_uf1", "test_uar")]
        body.append([Cell(str(row["model.directions"]) + (" (chosen)" if chosen else "")),
                     *[Cell(DASH if v is None else f"{v:.4f}", style=style) for v in cells]])
    return Table(["Direction", "inner-validation UF1 (selects)", "test UF1", "test UAR"], body,
                 caption=f"LBP-SDG per single HSDG direction, {experiment.exp_id} [{experiment.data_label}]: "
                 "selected on inner validation only")


def attribution_table(experiments: list[Experiment], shares_of) -> Table:
    """Per recommendation model and modality: where its attribution goes, next to its Recall@20."""
    body = []
    for e in experiments:
        recall = summarise(e.values("recall@20"))
        for modality, s in shares_of(e).items():
            body.append([Cell(e.exp_id), Cell(e.data_label, style="standin" if e.standin else "real"),
                         Cell(modality), _fraction(s.get("top10_share")), _fraction(s.get("informative_share")),
                         _fraction(s.get("informative_chance")), _fraction(s.get("completeness_gap")),
                         Cell(recall.text() if recall else "n/a")])
    return Table(["Experiment", "Data", "Modality", "top-10 dims share", "informative share", "chance share",
                  "completeness gap", "R@20"], body,
                 caption="BeFA attribution: share of |integrated gradients| per content modality")


def _fraction(value) -> Cell:
    value = number(value)
    return Cell(DASH if value is None else f"{value:.3f}", style="muted" if value is None else "")


def provenance_table(experiments: list[Experiment]) -> Table:
    """Provenance of every experiment: status, runs, profile, data, commit, time, MLflow run."""
    body = []
    for e in experiments:
        run = e.reference.run if e.reference else {}
        style = "" if e.status == "complete" else "warn"
        body.append([Cell(e.exp_id), Cell(e.task or DASH), Cell(e.status, style=style), Cell(e.data_label),
                     Cell(_seeds_text(e) if e.runs else DASH), Cell(str(run.get("profile", DASH))),
                     Cell(str(run.get("git_commit", DASH))[:12]), Cell(str(run.get("seconds", DASH))),
                     Cell(str(run.get("mlflow_run_id", DASH))), Cell("; ".join(e.notes))])
    return Table(["Experiment", "Task", "Status", "Data", "Seeds", "Profile", "Commit", "Seconds", "MLflow run",
                  "Notes"], body, caption="Every experiment the suite knows (configured or found in results/)")
