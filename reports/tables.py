"""The report's tables: evidence at a glance per task, and the detail tables below it.

Evidence at a glance (:func:`evidence_table`): one compact table per task, one row per experiment (method and
dataset): the data it ran on (stand-in or real), its protocol, the seeds, each headline metric as mean +- sample
std over the comparable seed runs, the trivial floor and the evidence verdict (reports/evidence.py), the number
the paper reported with its reference number (the citation text once, in References) and, for real-data rows
only, the gap measured minus reported. A paper number reported under another protocol (LOSO in the paper, a
subject k-fold here) is never shown as comparable: its cell says under which protocol it was reported. Columns
that are empty for the data in hand (no real data: no gap; nothing capped: no "capped" column) are left out.

Detail tables: the per-source parts of a composite, paper numbers of methods the suite does not run, per-AU F1,
LBP-SDG per direction, BeFA attribution, negative controls, provenance.
"""

from __future__ import annotations

from dataclasses import dataclass

from reports.document import Cell, Table
from reports.evidence import verdict
from reports.reported import NOT_ENTERED, Lookup, Reported, gap, lookup
from reports.results import Experiment, Summary, composite_parts, number, summarise

DASH = "—"


@dataclass(frozen=True)
class MetricColumn:
    key: str
    label: str
    reported: bool = True  # papers report it: a "reported" (and, for real data, a "gap") column


@dataclass(frozen=True)
class TaskTable:
    title: str
    metrics: tuple[MetricColumn, ...]


TASK_TABLES = {
    "mer": TaskTable("Micro-expression recognition", (
        MetricColumn("uf1", "UF1"), MetricColumn("uar", "UAR"), MetricColumn("accuracy", "Acc", reported=False))),
    "au": TaskTable("Micro-AU detection", (
        MetricColumn("mean_au_f1", "mean AU F1"),
        MetricColumn("label_free_uf1", "label-free UF1"), MetricColumn("label_free_uar", "label-free UAR"))),
    "masked": TaskTable("Masked emotions", (
        MetricColumn("uf1", "true-emotion UF1"), MetricColumn("uar", "true-emotion UAR"),
        MetricColumn("disguise_uf1", "disguise UF1"), MetricColumn("disguise_uar", "disguise UAR"))),
    "gesture": TaskTable("Micro-gesture recognition", (
        MetricColumn("top1", "top-1"), MetricColumn("top5", "top-5"), MetricColumn("uf1", "UF1", reported=False))),
    "cdmer": TaskTable("Cross-database micro-expression recognition (target database)", (
        MetricColumn("uf1", "UF1"), MetricColumn("uar", "UAR"), MetricColumn("accuracy", "WAR"))),
    # EEG: the field reports accuracy as the mean over subjects (reports/eeg.py); pooled figures beside it
    "eeg": TaskTable("EEG emotion recognition and depression detection", (
        MetricColumn("subject_accuracy_mean", "Acc (mean over subjects)"),
        MetricColumn("subject_f1_mean", "macro-F1 (mean over subjects)", reported=False),
        MetricColumn("accuracy", "Acc (pooled)", reported=False), MetricColumn("uf1", "macro-F1 (pooled)",
                                                                               reported=False))),
    "rec": TaskTable("Multimedia recommendation", (
        MetricColumn("recall@10", "R@10"), MetricColumn("recall@20", "R@20"),
        MetricColumn("ndcg@10", "N@10"), MetricColumn("ndcg@20", "N@20"))),
}


def task_table(task: str) -> TaskTable:
    """The task's columns; a task without its own table gets generic ones under its own name (never another
    task's title)."""
    if task in TASK_TABLES:
        return TASK_TABLES[task]
    return TaskTable(f"Task {task}", (MetricColumn("uf1", "UF1"), MetricColumn("accuracy", "Acc", reported=False)))


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


def data_style(experiment: Experiment) -> str:
    return "standin" if experiment.standin else "real"


def measured_text(summary: Summary | None) -> str:
    """Mean +- sample std (the seed count is in its own column); "n/a" when the runs lack the metric."""
    if summary is None:
        return "n/a"
    return f"{summary.mean:.4f}" if summary.std is None else f"{summary.mean:.4f} ± {summary.std:.4f}"


def seeds_text(experiment: Experiment) -> str:
    seeds = experiment.seeds
    if not seeds:
        return str(len(experiment.runs))
    return str(seeds[0]) if len(seeds) == 1 else f"{len(seeds)} ({', '.join(map(str, seeds))})"


def reported_text(found: Lookup, citations: Citations, experiment: Experiment) -> Cell:
    """The paper's number with its reference; under another protocol, the number and why it is not comparable."""
    ref = citations.number(found.citation) if found.citation else None
    if found.value is None:  # a placeholder: the citation is in References, not repeated in every cell
        return Cell(NOT_ENTERED, ref=ref, style="muted")
    if not found.comparable:
        return Cell(f"{found.value:.4f}, {found.note.replace('reported under protocol ', 'reported under ')}; "
                    f"this run: {experiment.protocol_label}", ref=ref, style="muted")
    return Cell(f"{found.value:.4f}", ref=ref)


def evidence_table(task: str, experiments: list[Experiment], reported: list[Reported],
                   citations: Citations) -> Table:
    """One row per experiment of ``task`` (stand-in and real rows apart, each in its colour); see the module doc.

    A reported metric no row has a paper number for gets no column of its own: when no metric has one, a single
    "Reported" column says "not yet entered" (with the reference of the placeholder, when it names one).
    """
    spec = task_table(task)
    ordered = sorted(experiments, key=lambda e: (e.standin, e.dataset, e.name))
    paper = [m for m in spec.metrics if m.reported]
    found = {e.exp_id: {m.key: lookup(reported, e.name, e.dataset, e.protocol, m.key) for m in paper}
             for e in ordered}
    with_number = [m for m in paper if any(found[e.exp_id][m.key].value is not None for e in ordered)]
    columns = ["Method", "Dataset", "Data", "Protocol", "Seeds"] + [m.label for m in spec.metrics]
    columns += ["Floor", "Evidence", "Capped"]
    columns += [f"{m.label} reported" for m in with_number] or ["Reported"]
    columns += [f"{m.label} gap (real − reported)" for m in with_number]
    columns.append("Notes")
    body = []
    for e in ordered:
        style = data_style(e)
        judged = verdict(e)
        row = [Cell(e.name), Cell(e.dataset), Cell(e.data_label, style=style), Cell(e.protocol_label),
               Cell(seeds_text(e))]
        row += [Cell(measured_text(summarise(e.values(m.key))), style=style) for m in spec.metrics]
        row += [Cell(judged.floor_text, style="muted"), Cell(judged.text, style=judged.style),
                Cell("capped" if e.capped else DASH, style="warn" if e.capped else "muted")]
        if with_number:
            row += [reported_text(found[e.exp_id][m.key], citations, e) for m in with_number]
            row += [gap_cell(e, m, found[e.exp_id][m.key]) for m in with_number]
        else:
            citation = next((f.citation for f in found[e.exp_id].values() if f.citation), "")
            row.append(Cell(NOT_ENTERED if paper else DASH, ref=citations.number(citation), style="muted"))
        row.append(Cell("; ".join(e.notes)))
        body.append(row)
    return drop_empty_columns(Table(columns, body, caption=f"{spec.title}: every experiment run"),
                              keep=("Method", "Dataset", "Data", "Protocol", "Seeds", "Floor", "Evidence"))


def gap_cell(experiment: Experiment, metric: MetricColumn, found: Lookup) -> Cell:
    """Measured on real data minus reported, under the same protocol only; stand-in rows never get a gap."""
    if experiment.standin:
        return Cell(DASH, style="muted")
    summary = summarise(experiment.values(metric.key))
    difference = gap(summary.mean if summary else None, found)
    if difference is None:
        return Cell(DASH, style="muted")
    return Cell(f"{difference:+.4f}", style="gap-neg" if difference < 0 else "gap-pos")


def drop_empty_columns(table: Table, keep: tuple[str, ...] = ()) -> Table:
    """The table without the columns whose every cell is empty or a dash (except those in ``keep``)."""
    if not table.rows:
        return table
    shown = [i for i, name in enumerate(table.columns)
             if name in keep or any(row[i].text not in ("", DASH) for row in table.rows)]
    return Table([table.columns[i] for i in shown], [[row[i] for i in shown] for row in table.rows], table.caption)


def composite_parts_table(experiments: list[Experiment], reported: list[Reported], citations: Citations
                          ) -> Table | None:
    """UF1 and UAR of each source dataset's part of a composite's pooled predictions, next to the paper's part
    numbers (MEGC2019 reports CASME II, SAMM and SMIC apart)."""
    body = []
    for e in sorted(experiments, key=lambda e: (e.standin, e.dataset, e.name)):
        per_part: dict[str, list[dict]] = {}
        for run in e.runs:
            for part, scores in composite_parts(run).items():
                per_part.setdefault(part, []).append(scores)
        for part, per_seed in sorted(per_part.items()):
            row = [Cell(e.name), Cell(f"{e.dataset}: {part}"), Cell(e.data_label, style=data_style(e))]
            for key in ("uf1", "uar"):
                values = [v for v in (number(s.get(key)) for s in per_seed) if v is not None]
                row.append(Cell(measured_text(summarise(values)), style=data_style(e)))
            for key in ("uf1", "uar"):
                row.append(reported_text(lookup(reported, e.name, f"{e.dataset}:{part}", e.protocol, key), citations,
                                         e))
            body.append(row)
    if not body:
        return None
    return Table(["Method", "Part", "Data", "UF1", "UAR", "UF1 reported", "UAR reported"], body,
                 caption="Composite datasets per source dataset (the same pooled predictions, split by source)")


def reported_numbers_table(rows: list[Reported], citations: Citations, caption: str) -> Table | None:
    """Paper numbers, one row per method, dataset (part) and protocol, one column per metric."""
    cells: dict[tuple[str, str, str], dict[str, Cell]] = {}
    metrics: list[str] = []
    for r in rows:
        cells.setdefault((r.method, r.dataset, r.protocol), {})[r.metric] = Cell(
            f"{r.value:.4f}", ref=citations.number(r.citation))
        if r.metric not in metrics:
            metrics.append(r.metric)
    if not cells:
        return None
    body = [[Cell(m), Cell(d), Cell(p)] + [by_metric.get(k, Cell(DASH, style="muted")) for k in metrics]
            for (m, d, p), by_metric in cells.items()]
    return Table(["Method", "Dataset", "Protocol"] + metrics, body, caption=caption)


def reference_only_table(reported: list[Reported], datasets: set[str], shown_methods: set[str],
                         citations: Citations) -> Table | None:
    """Paper numbers on the datasets in hand for methods with no experiment here."""
    rows = [r for r in reported if r.value is not None and r.method not in shown_methods
            and r.dataset.partition(":")[0] in datasets]
    return reported_numbers_table(rows, citations, "Reported numbers of methods not run here, on the datasets in "
                                                   "hand (for reference)")


def unmatched_table(reported: list[Reported], datasets: set[str], citations: Citations) -> Table | None:
    """Reported numbers on datasets with no finished experiment (e.g. Amazon Baby when only stand-ins ran)."""
    rows = [r for r in reported if r.value is not None and r.dataset.partition(":")[0] not in datasets]
    return reported_numbers_table(rows, citations, "Reported numbers on datasets without a finished experiment")


def negative_controls_table(experiments: list[Experiment]) -> Table:
    """Control runs (``data.negative_control``): labels permuted or inputs blanked; each must sit at its floor."""
    body = []
    for e in experiments:
        judged = verdict(e)
        expected = judged.status != "clear"
        body.append([Cell(e.exp_id), Cell(e.negative_control, style="warn"), Cell(e.data_label, style=data_style(e)),
                     Cell(e.protocol_label), Cell(seeds_text(e)),
                     Cell(DASH if judged.value is None else f"{judged.value:.4f}"), Cell(judged.floor_text),
                     Cell(judged.text + ("" if expected else ": a control above its floor, look for a leak"),
                          style="" if expected else "warn")])
    return Table(["Experiment", "Control", "Data", "Protocol", "Seeds", "Headline", "Floor", "Evidence"], body,
                 caption="Negative controls: runs that must fail (never results); a control clearly above its floor "
                         "means the pipeline leaks")


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


def direction_choice_table(experiment: Experiment, rows: list[dict]) -> Table:
    """LBP-SDG's per-fold choice of one HSDG direction: how often each distinct direction won, and its mean
    inner-validation UF1 (training subjects only: the numbers that chose it)."""
    style = "standin" if experiment.standin else "real"
    body = [[Cell(r["direction"]), Cell(f"{r['chosen_folds']} ({r['chosen_share']:.0%})", style=style),
             Cell(DASH if r["inner_uf1"] is None else f"{r['inner_uf1']:.4f}", style=style)]
            for r in sorted(rows, key=lambda r: (-r["chosen_share"], -(r["inner_uf1"] or 0.0)))]
    return Table(["Direction", "folds that chose it", "mean inner-validation UF1"], body,
                 caption=f"LBP-SDG, {experiment.exp_id} [{experiment.data_label}]: the direction chosen in each fold "
                 f"on inner validation, among {len(rows)} distinct directions (opposite steps give mirror-image "
                 "histograms, so the paper's 18 are 9 distinct ones here)")


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
        notes = ([f"negative control: {e.negative_control}"] if e.negative_control != "none" else []) + e.notes
        body.append([Cell(e.exp_id), Cell(e.task or DASH), Cell(e.status, style=style), Cell(e.data_label),
                     Cell(seeds_text(e) if e.runs else DASH), Cell(str(run.get("profile", DASH))),
                     Cell(str(run.get("git_commit", DASH))[:12]), Cell(str(run.get("seconds", DASH))),
                     Cell(str(run.get("mlflow_run_id", DASH))), Cell("; ".join(notes))])
    return Table(["Experiment", "Task", "Status", "Data", "Seeds", "Profile", "Commit", "Seconds", "MLflow run",
                  "Notes"], body, caption="Every experiment the suite knows (configured or found in results/)")
