"""`affect report`: results/ + MLflow -> reports/comparison.md, reports/comparison.html, reports/figures/*.png.

What the report promises (docs/report.md), in the order it reads:

- evidence at a glance: per task one compact table (every experiment run: data, protocol, seeds, headline metrics
  as mean +- std over seeds, the trivial floor and whether the result is clearly above it, a "capped" marker, the
  paper's number with its reference, the gap for real data under the same protocol only) and one chart of every
  experiment's seed spread, stand-in and real data in separate panels;
- data: where each result comes from (stand-in or real, sizes), the stand-in calibration against its anchor, and
  what each stand-in cannot show;
- negative controls (runs with ``data.negative_control``) in their own table only, never among results;
- methods: where each cannot be faithful to its paper and how its non-paper defaults were chosen;
- details below: composite parts, other methods' reported numbers, per-AU F1, LBP-SDG per direction family,
  BeFA attribution, compute, figures per experiment (training curves from the MLflow fold runs), runs and
  provenance (including what is configured but not run, interrupted or unreadable: the build never stops for a
  missing or malformed result), `dvc metrics diff`, references.

Stand-in results (synthetic data, MovieLens-100k) are labelled and coloured as such everywhere and never compared
with a paper. The HTML is one self-contained file (reports/document.py); the Markdown links the PNGs in figures/.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from core.io import write_text
from reports import figure_sets, render, tables
from reports.cdmer import cdmer_section
from reports.curves import CurveReader
from reports.data import data_section
from reports.document import (
    BulletList,
    Cell,
    Document,
    Figure,
    Heading,
    Paragraph,
    Preformatted,
    References,
    Table,
    to_html,
    to_markdown,
)
from reports.dvc_metrics import metrics_diff
from reports.eeg import eeg_section
from reports.evidence import RULES, run_floor
from reports.faithfulness import Catalogue
from reports.occlusion import occlusion_section
from reports.reported import Reported, load_reported
from reports.results import TASK_ORDER, Experiment, discover, read_json

log = logging.getLogger(__name__)

REPORTS_DIR = Path(__file__).resolve().parent
MAX_DIFF_LINES = 200


@dataclass
class ReportOptions:
    root: Path
    results_dir: Path
    out_dir: Path
    reported_csv: Path = REPORTS_DIR / "reported.csv"
    mlflow: bool = True
    dvc: bool = True
    workers: int = field(default_factory=render.default_workers)
    redraw: bool = False  # draw every figure even when its PNG is newer than its inputs
    catalogue: Catalogue = field(default_factory=Catalogue)  # the suite's declarations (`affect report` passes them)


@dataclass
class BuildSummary:
    markdown: Path
    html: Path
    figures: list[Path]
    experiments: int
    complete: int
    seconds: float


def build_report(options: ReportOptions, configured: list[str] | None = None) -> BuildSummary:
    """Build and write the report; ``configured`` defaults to the catalogue's experiments (`affect report`: every
    experiment YAML of the suite)."""
    started = time.perf_counter()
    if configured is None:
        configured = options.catalogue.experiments()
    experiments = discover(options.results_dir, configured, options.results_dir.parent / "checkpoints",
                           options.catalogue)
    reported = load_reported(options.reported_csv)
    fig_dir = options.out_dir / "figures"
    planned = build_document(experiments, reported, options, fig_dir)
    jobs = [job for block in planned.blocks if isinstance(block, figure_sets.FigureSet) for job in block.jobs]
    doc = expand_figures(planned, render.render(jobs, options.workers, options.redraw))
    figures = [b.path for b in doc.blocks if isinstance(b, Figure)]
    remove_stale_figures(fig_dir, figures)
    markdown = write_text(options.out_dir / "comparison.md", to_markdown(doc, options.out_dir))
    html = write_text(options.out_dir / "comparison.html", to_html(doc))
    complete = sum(e.status == "complete" for e in experiments)
    return BuildSummary(markdown, html, figures, len(experiments), complete, time.perf_counter() - started)


def expand_figures(doc: Document, outcome: dict[Path, str | None]) -> Document:
    """Replace each planned :class:`FigureSet` by its drawn figures and notes on the others."""
    blocks = []
    for block in doc.blocks:
        if not isinstance(block, figure_sets.FigureSet):
            blocks.append(block)
            continue
        blocks.extend(Figure(job.path, job.caption) for job in block.jobs if outcome.get(job.path, "") is None)
        problems = [outcome[job.path] for job in block.jobs if outcome.get(job.path)]
        blocks.extend(Paragraph(note, style="note") for note in [*block.notes, *problems])
    return Document(doc.title, blocks)


def build_document(experiments: list[Experiment], reported: list[Reported], options: ReportOptions,
                   fig_dir: Path) -> Document:
    """The report with figures planned (:class:`FigureSet` blocks), not yet drawn."""
    doc = Document("Comparison report: measured against reported")
    citations = tables.Citations()
    controls = [e for e in experiments if e.status == "complete" and e.negative_control != "none"]
    results = [e for e in experiments if e.negative_control == "none"]  # a control is never a result
    complete = [e for e in results if e.status == "complete"]
    titles = {task: tables.task_table(task).title for task in present_tasks(complete)}
    doc.add(*introduction(experiments, complete, controls, options))
    doc.add(*evidence_section(complete, reported, citations, fig_dir))
    doc.add(*data_section(complete, options.root, reported, citations, titles))
    if controls:
        doc.add(Heading("Negative controls"),
                Paragraph("Runs made with `data.negative_control` (labels permuted, inputs blanked) to prove that "
                          "the regression check catches a broken model. They are not results and appear nowhere "
                          "else in this report; `affect report --check-regression` checks them like any run (a "
                          "control is expected to DROP).", style="note"),
                tables.negative_controls_table(controls))
    doc.add(*methods_section(results))
    doc.add(*details_section(complete, reported, citations, fig_dir))
    doc.add(*cdmer_section(complete))
    doc.add(*eeg_section(complete, reported))
    doc.add(*compute_section(options.root / "benchmarks" / "results"))
    doc.add(*occlusion_section(options.root / "benchmarks" / "results"))
    doc.add(*low_resolution_section(options.root / "benchmarks" / "results" / "low_resolution.json", fig_dir))
    fresh = render.never_fresh if options.redraw else render.is_fresh
    doc.add(*figures_section(complete, fig_dir, CurveReader() if options.mlflow else None, fresh))
    doc.add(*runs_section(experiments))
    doc.add(*dvc_section(options))
    doc.add(Heading("References"), References(citations.items) if citations.items else Paragraph("none cited"))
    return doc


def introduction(experiments: list[Experiment], complete: list[Experiment], controls: list[Experiment],
                 options: ReportOptions) -> list:
    counts = {status: sum(e.status == status for e in experiments)
              for status in ("complete", "partial", "unreadable", "not run")}
    summary = ", ".join(f"{n} {status}" for status, n in counts.items() if n) or "no"
    blocks = [
        Paragraph(f"Generated {datetime.now(UTC):%Y-%m-%d %H:%M} UTC from {options.results_dir} by `affect report`: "
                  f"{summary} experiment(s)" + (f", {len(controls)} of them negative controls" if controls else "")
                  + "."),
        Paragraph("Yellow cells: stand-in data (synthetic datasets written by `affect synth`, or MovieLens-100k "
                  "for recommendation); green: real data. Stand-in numbers are measurements of the pipeline, "
                  "never compared with a paper: a gap (measured minus reported) is shown for real data under the "
                  "paper's protocol only. Several seeds show as mean ± sample standard deviation. Reported numbers "
                  "cite their source by number (References); 'not yet entered' means reports/reported.csv holds "
                  "no verified number yet.", style="note"),
    ]
    if complete and all(e.standin for e in complete):
        blocks.append(Paragraph("Every measured number in this report comes from stand-in data: it shows that "
                                "the pipeline runs and learns, not how the methods compare with their papers.",
                                style="warn"))
    if not complete:
        blocks.append(Paragraph(f"No finished experiment in {options.results_dir}: run `dvc repro` or "
                                "`affect train <name>/<dataset>` first.", style="warn"))
    return blocks


def present_tasks(experiments: list[Experiment]) -> list[str]:
    tasks = {e.task for e in experiments}
    return [t for t in TASK_ORDER if t in tasks] + sorted(tasks - set(TASK_ORDER))


def evidence_section(complete: list[Experiment], reported: list[Reported], citations: tables.Citations,
                     fig_dir: Path) -> list:
    blocks: list = [Heading("Evidence at a glance"),
                    Paragraph("One row per experiment run. Floor: the score of a trivial predictor that needs no "
                              "training (always the majority test class; every AU present; the most popular items). "
                              "Evidence: clear when UF1 or top-1 is at least 0.15 above it, mean AU F1 0.10 above "
                              "it, Recall@20 1.2 times it (reports/evidence.py). Capped: training stopped at its "
                              "epoch budget while the validation score still improved.", style="note")]
    if not complete:
        return blocks + [Paragraph("No finished experiment yet.", style="note")]
    for task in present_tasks(complete):
        members = [e for e in complete if e.task == task]
        spec, rule = tables.task_table(task), RULES.get(task, RULES["mer"])
        blocks += [Heading(spec.title, 3), tables.evidence_table(task, members, reported, citations),
                   figure_sets.evidence_figure(task, spec.title, members, fig_dir, rule.metric,
                                               _metric_label(task, rule.metric),
                                               lambda e, task=task: _mean_floor(e, task))]
    return blocks


def _metric_label(task: str, metric: str) -> str:
    labels = {m.key: m.label for m in tables.task_table(task).metrics}
    return labels.get(metric, metric)


def _mean_floor(experiment: Experiment, task: str) -> float | None:
    floors = [f for f in (run_floor(r, task) for r in experiment.runs) if f is not None]
    return sum(floors) / len(floors) if floors else None


def details_section(complete: list[Experiment], reported: list[Reported], citations: tables.Citations,
                    fig_dir: Path) -> list:
    """Composite parts, other methods' reported numbers, per-AU F1, LBP-SDG directions, BeFA attribution."""
    blocks: list = []
    parts = tables.composite_parts_table([e for e in complete if e.task == "mer"], reported, citations)
    datasets = {e.dataset for e in complete}
    others = tables.reference_only_table(reported, datasets, {e.name for e in complete}, citations)
    unmatched = tables.unmatched_table(reported, datasets, citations)
    if parts or others or unmatched:
        blocks.append(Heading("Details: composite parts and reported numbers of other methods"))
        blocks.extend(t for t in (parts, others, unmatched) if t is not None)
    au = [e for e in complete if e.task == "au"]
    per_au = tables.per_au_table(au, {e.exp_id: figure_sets.all_positive_floor(e.reference) for e in au})
    if per_au is not None:
        blocks += [Heading("Details: per-AU F1"), per_au]
    blocks.extend(direction_section([e for e in complete if e.task == "mer"], fig_dir))
    blocks.extend(attribution_section([e for e in complete if e.task == "rec"], fig_dir))
    return blocks


def direction_section(experiments: list[Experiment], fig_dir: Path) -> list:
    chosen = figure_sets.direction_experiments(experiments)
    if not any(e.name != figure_sets.LBP_TOP_ALONE for e in chosen):
        return []
    chosen = sorted(chosen, key=lambda e: (e.dataset, figure_sets.direction_family(e)))
    blocks = [Heading("Details: LBP-SDG per direction family"),
              tables.direction_table(chosen, figure_sets.direction_family),
              figure_sets.direction_figures(chosen, fig_dir)]
    for e in chosen:
        rows = figure_sets.direction_choices(e)
        if rows:
            blocks.append(tables.direction_choice_table(e, rows))
    return blocks


def attribution_section(experiments: list[Experiment], fig_dir: Path) -> list:
    chosen = figure_sets.attribution_experiments(experiments)
    if not chosen:
        return []
    return [Heading("Details: BeFA attribution analysis"),
            Paragraph("Integrated gradients of the recommendation scores over each content-feature dimension "
                      "(lightning_modules/befa/attribution.py). On a stand-in with ground truth, a model that "
                      "reads content the way behaviour wants puts more than the chance share on the informative "
                      "dimensions; compare each base model with its BeFA variant.", style="note"),
            tables.attribution_table(chosen, figure_sets.attribution_shares),
            figure_sets.attribution_figures(chosen, fig_dir)]


def methods_section(experiments: list[Experiment]) -> list:
    """The methods with a result; the others configured are named in one line."""
    rows = []
    notes = {}
    for e in experiments:  # a method's note from the first of its finished experiments that has one
        if e.method and e.status == "complete" and notes.get(e.method) is None:
            notes[e.method] = e.note
    others = sorted({e.method for e in experiments if e.method} - set(notes))
    for method in sorted(notes):
        note = notes[method]
        if note is None:
            rows.append([Cell(method), Cell("?"), Cell("not in the registry"), Cell(""), Cell("not stated",
                                                                                          style="warn")])
            continue
        source = "declared" if note.declared else "from the docstrings"
        chosen = note.defaults_chosen or "not stated"
        rows.append([Cell(method), Cell(note.task), Cell(note.paper), Cell(f"{note.note} ({source})"),
                     Cell(chosen, style="" if note.defaults_chosen else "warn")])
    tail = [Paragraph(f"Configured methods without a result yet ({len(others)}): {', '.join(others)}; "
                      "`affect list` shows them.", style="note")] if others else []
    if not rows:
        return [Heading("Methods and faithfulness"), *tail] if tail else []
    return [Heading("Methods and faithfulness"),
            Paragraph("Where a re-implementation cannot follow its paper (full text unavailable, weights that "
                      "cannot be downloaded, substituted data), its numbers measure the re-implementation, not "
                      "the paper's method. Defaults the paper does not give are chosen on inner validation of "
                      "training subjects or fixed a priori, never on test folds; the last column says which "
                      "(MethodSpec.defaults_chosen).", style="note"),
            Table(["Method", "Task", "Paper", "Where and why it may not be faithful",
                   "How non-paper defaults were chosen"], rows), *tail]


def compute_section(bench_dir: Path) -> list:
    """Parameters, FLOPs and CPU inference time per method, from the benchmark JSONs that measure them
    (benchmarks/graph_methods.py: the landmark-graph networks next to STSTNet, the compute claim of their papers)."""
    rows = []
    for path in sorted(bench_dir.glob("*.json")):
        data, _ = read_json(path)
        methods = data.get("methods") if isinstance(data, dict) else None
        if not isinstance(methods, dict):
            continue
        machine = data.get("machine") if isinstance(data.get("machine"), dict) else {}  # some write a platform string
        where = f"{path.name}, {data.get('threads', machine.get('threads', '?'))} thread(s)"
        for name, m in methods.items():
            if isinstance(m, dict) and "parameters" in m and "flops_per_sample" in m:
                rows.append([Cell(name), Cell(f"{int(m['parameters']):,}"),
                             Cell(f"{m['flops_per_sample'] / 1e6:.2f}"), Cell(_ms(m.get("cpu_ms_per_sample_batch1"))),
                             Cell(_ms(m.get("cpu_ms_per_sample_batch32"))),
                             Cell(" x ".join(map(str, m.get("input", [])))), Cell(where)])
    if not rows:
        return [Heading("Compute"), Paragraph("No compute benchmark found: run `.venv/bin/python "
                                              "benchmarks/graph_methods.py` (or `affect bench --run`).", style="note")]
    return [Heading("Compute"),
            Paragraph("CPU time per sample is process CPU time (what an idle core would take), measured by the "
                      "benchmark named in the last column.", style="note"),
            Table(["Method", "Parameters", "MFLOPs / sample", "CPU ms / sample (batch 1)",
                   "CPU ms / sample (batch 32)", "Input", "Source"], rows)]


def low_resolution_section(path: Path, fig_dir: Path) -> list:
    """The low-resolution study (benchmarks/low_resolution.py), only when its JSON exists."""
    figures = figure_sets.low_resolution_figures(path, fig_dir)
    if not figures.jobs:
        return []
    return [Heading("Low-resolution study [stand-in]"),
            Paragraph("Aligned face clips degraded to 64/32/16 px and restored to 128 px by bicubic, Lanczos, SRCNN "
                      "and ESPCN (trained here, subject cross-fit), then LBP-TOP + SVM and STSTNet re-scored LOSO "
                      "on the synthetic composite stand-in (benchmarks/low_resolution.py). Where the figures of "
                      "every MER method are shown, each method was trained on restored copies of the processed "
                      "datasets, landmarks re-detected on them (benchmarks/occlusion.py --study lowres); a line "
                      "stops where a condition was not run. Not real data.",
                      style="note"),
            figures]


def _ms(value) -> str:
    return f"{value:.2f}" if isinstance(value, (int, float)) else "?"


def figures_section(experiments: list[Experiment], fig_dir: Path, reader: CurveReader | None, fresh) -> list:
    blocks: list = [Heading("Details: figures per experiment")]
    if reader is None:
        blocks.append(Paragraph("Training curves skipped (--no-mlflow).", style="note"))
    for e in experiments:
        if e.status == "complete":
            blocks += [Heading(f"{e.exp_id} [{e.data_label}]", 3),
                       figure_sets.experiment_figures(e, fig_dir, reader, fresh)]
    return blocks


def runs_section(experiments: list[Experiment]) -> list:
    """Provenance of every run, and what has no usable result (configured, interrupted, unreadable)."""
    blocks: list = [Heading("Runs and provenance")]
    with_result = [e for e in experiments if e.status != "not run"]
    if with_result:
        blocks.append(tables.provenance_table(with_result))
    not_run = [e.exp_id for e in experiments if e.status == "not run"]
    if not_run:
        blocks.append(Paragraph(f"Configured but not run ({len(not_run)}): {', '.join(not_run)}. "
                                "Run them with `affect train <id>`.", style="note"))
    broken = [f"{e.exp_id} ({e.status}): {'; '.join(e.notes)}" for e in experiments
              if e.status in ("partial", "unreadable")]
    if broken:
        blocks.extend([Paragraph("Interrupted or unreadable results:", style="warn"), BulletList(broken)])
    return blocks


def dvc_section(options: ReportOptions) -> list:
    blocks: list = [Heading("dvc metrics diff")]
    if not options.dvc:
        return blocks + [Paragraph("skipped (--no-dvc)", style="note")]
    diff = metrics_diff(options.root)
    blocks.append(Paragraph(diff.note, style="note"))
    if diff.text:
        lines = diff.text.splitlines()
        shown = "\n".join(lines[:MAX_DIFF_LINES])
        if len(lines) > MAX_DIFF_LINES:
            shown += f"\n... {len(lines) - MAX_DIFF_LINES} more lines (run `dvc metrics diff` for all)"
        blocks.append(Preformatted(shown))
    return blocks


def remove_stale_figures(fig_dir: Path, keep: list[Path]) -> None:
    """Drop PNGs of experiments that are gone, so figures/ matches the report. The folder always exists (it is
    a declared output of the pipeline's report stage, also when no experiment has a figure to draw)."""
    fig_dir.mkdir(parents=True, exist_ok=True)
    kept = {p.resolve() for p in keep}
    for path in fig_dir.glob("*.png"):
        if path.resolve() not in kept:
            path.unlink()
