"""The cross-database (CDMER) section: the benchmark's tasks with their source, and a task x method matrix of target
UAR with the honest selection, the oracle's (selects on target labels) set apart in its own columns.

Reads only results/ files (details.json of each ``cdmer`` run: ``uar``, ``selection_rule``, ``oracle``) and the
task list shipped as data (rawdata/layouts/cdmer_tasks.yaml, read as a file: the report imports no pipeline
package). Cells are means over the seed runs found. The honest numbers are the results; the oracle columns show
how much choosing hyper-parameters on the target's labels (what the public TSRG code's grid reports) would add.
"""

from __future__ import annotations

from core.config import PACKAGE_ROOT, load_yaml
from reports.document import BulletList, Cell, Heading, Paragraph, Table
from reports.results import Experiment, number

TASKS_FILE = PACKAGE_ROOT / "rawdata" / "layouts" / "cdmer_tasks.yaml"
DASH = "—"
NAMES = {"casme2": "CASME II", "smic": "SMIC-HS", "smic_vis": "SMIC-VIS", "smic_nir": "SMIC-NIR"}


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _text(value: float | None) -> str:
    return DASH if value is None else f"{value:.3f}"


def _oracle(run) -> float | None:
    oracle = run.metrics.get("oracle")
    return number(oracle.get("uar")) if isinstance(oracle, dict) else None


def task_label(task: str) -> str:
    source, _, target = task.partition("_to_")
    return f"{NAMES.get(source, source)} → {NAMES.get(target, target)}"


def cdmer_section(experiments: list[Experiment]) -> list:
    runs = [e for e in experiments if e.task == "cdmer" and e.status == "complete"]
    if not runs:
        return []
    data = load_yaml(TASKS_FILE)
    listed = [f"{t['source']}_to_{t['target']}" for t in data["tasks"]]
    tasks = [t for t in listed if any(e.dataset == t for e in runs)]
    tasks += sorted({e.dataset for e in runs} - set(tasks))
    methods = sorted({e.name for e in runs})
    cell = {(e.dataset, e.name): e for e in runs}
    columns = ["Task"] + [f"{m} UAR" for m in methods] + [f"{m} oracle UAR" for m in methods]
    body = []
    for task in tasks:
        honest, oracle = [], []
        for m in methods:
            e = cell.get((task, m))
            style = ("standin" if e.standin else "real") if e else "muted"
            honest.append(Cell(_text(_mean(e.values("uar"))) if e else DASH, style=style))
            values = [v for v in (_oracle(r) for r in e.runs) if v is not None] if e else []
            oracle.append(Cell(_text(_mean(values)), style="muted"))
        body.append([Cell(task_label(task))] + honest + oracle)
    if len(tasks) > 1:  # the mean over the tasks each method ran (its count in brackets when it missed some)
        honest, oracle = [], []
        for m in methods:
            runs_of = [cell[(t, m)] for t in tasks if (t, m) in cell]
            means = [_mean(e.values("uar")) for e in runs_of]
            means = [v for v in means if v is not None]
            oracles = [_mean([v for v in (_oracle(r) for r in e.runs) if v is not None]) for e in runs_of]
            oracles = [v for v in oracles if v is not None]
            count = "" if len(means) == len(tasks) else f" ({len(means)} of {len(tasks)})"
            honest.append(Cell(_text(_mean(means)) + count if means else DASH))
            oracle.append(Cell(_text(_mean(oracles)) + (f" (gap {_mean(oracles) - _mean(means):+.3f})"
                                                        if oracles and means else ""), style="muted"))
        body.append([Cell("Mean over tasks")] + honest + oracle)
    rules = sorted({str(r.metrics.get("selection_rule", "")) for e in runs for r in e.runs} - {""})
    return [
        Heading("Cross-database micro-expression recognition (CDMER)"),
        Paragraph("Train on a labelled source database, recognise an unlabelled target database (transductive: the "
                  "target's features, never its labels, are available when fitting). Target UAR of each method with "
                  f"hyper-parameters chosen honestly ({', '.join(rules) or 'the defaults'}: only source labels are "
                  "read); the oracle columns, set apart, choose on the TARGET labels, as the public TSRG code's grid "
                  "does: they are not results, they show what that selection would add.", style="note"),
        Table(columns, body, caption="CDMER: task x method, target UAR (honest | oracle, apart)"),
        Paragraph(f"The benchmark's {len(listed)} tasks ({data['source']}):", style="note"),
        BulletList([f"{task_label(t)} ({task['group']})" for t, task in zip(listed, data["tasks"], strict=True)]),
    ]
