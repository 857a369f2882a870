"""The occluded-MER section: every MER method's UF1 / UAR on clean and occluded clips (RRRN's setting).

Reads the benchmark's own result files, not results/: benchmarks/results/occlusion.json (format:
benchmarks/occlusion.py; one table per protocol and landmark mode, ``table -> condition -> method -> row``) and,
when present, a permuted-label control of the clean runs (occlusion_permuted_control.json, the same format, rows
run with ``data.negative_control=permuted_labels``). A row that stopped early (``folds_done < n_folds``) is shown
as such, never as a result; a cell the file lists under ``not_run`` or does not hold reads "not run". A method left
unrun on purpose (``not_run_reasons``: table -> method -> reason) keeps its row of "not run" cells, and its reason
is printed under the table.

Repeated seeds: occlusion.json holds one run per cell (seed 0); files ``occlusion_seed<N>.json`` (the same format, one
seed each, rows run with ``seed=N``; benchmarks/occlusion.py --out / --merge) add the holdout-database cells' other
seeds. When any cell has two or more, a second table gives UF1 mean +- std over the seeds found and their count. A
row is counted under the seed it ran with (its ``seed=`` override, else 0) and only when finished and scored on the
same data as occlusion.json (``data_identity``); a seed held twice with different scores is a warning naming both files.
"""

from __future__ import annotations

import statistics
from pathlib import Path

from reports.document import Cell, Heading, Paragraph, Table
from reports.results import number, read_json

CONDITIONS = ("clean", "mask", "glasses", "block")
TABLES = {  # key in the file -> what it holds
    "holdout_database": "holdout-database (train on two of CASME II / SAMM / SMIC, test on the third), landmarks "
                        "re-detected on the occluded frames",
    "conditions": "LOSO over the composite, landmarks re-detected on the occluded frames",
    "holdout_database_copied_landmarks": "holdout-database, the clean clips' landmarks copied into the occluded ones",
    "conditions_copied_landmarks": "LOSO over the composite, the clean clips' landmarks copied into the occluded ones",
}
NAMES = {"lbptop_svm": "LBP-TOP + SVM", "lbp_sdg": "LBP-SDG", "ststnet": "STSTNet", "geograph": "GEO-Graph",
         "dere_grl": "DeRE-GRL", "ltr3o": "LTR3O", "sma_stn": "SMA-STN", "rrrn": "RRRN", "mpt": "MPT"}
NOT_RUN = "not run"


def partial(row: dict) -> bool:
    """Whether a row stopped before its last fold (a deadline): never a result."""
    done, total = row.get("folds_done"), row.get("n_folds")
    return row.get("complete") is False or (isinstance(done, int) and isinstance(total, int) and done < total)


def finished(row: object) -> bool:
    """A row with all its folds and both scores: what a table may show as a result."""
    return (isinstance(row, dict) and not partial(row)
            and number(row.get("uf1")) is not None and number(row.get("uar")) is not None)


def score(row: object) -> str:
    """``UF1 / UAR`` of a finished row; a partial row says how far it got."""
    if isinstance(row, dict) and partial(row):
        return f"partial ({row.get('folds_done')} of {row.get('n_folds')} folds)"
    if not finished(row):
        return NOT_RUN
    return f"{number(row['uf1']):.3f} / {number(row['uar']):.3f}"


def occlusion_table(table: dict, methods: list[str], control: dict | None) -> Table:
    columns = ["Method", *(f"{c} (UF1 / UAR)" for c in CONDITIONS)]
    if control is not None:
        columns.append("clean, labels permuted (control)")
    rows = []
    for method in methods:
        cells = [Cell(NAMES.get(method, method))]
        for condition in CONDITIONS:
            row = (table.get(condition) or {}).get(method)
            cells.append(Cell(score(row), style="standin" if finished(row) else ""))
        if control is not None:
            cells.append(Cell(score((control.get("clean") or {}).get(method))))
        rows.append(cells)
    return Table(columns, rows)


def occlusion_section(bench_dir: Path) -> list:
    """Heading, notes and one table per protocol / landmark mode found (a row per method with at least one cell in
    it, in the suite's order); nothing when the benchmark never ran, a warning naming the file when it is unreadable."""
    path = bench_dir / "occlusion.json"
    if not path.exists():
        return []
    data, problem = read_json(path)
    if data is None:  # there but unreadable: said in the report, not skipped in silence
        return [Heading("Occluded micro-expressions [stand-in]"),
                Paragraph(f"Not shown: {problem} (expected the JSON object benchmarks/occlusion.py writes).",
                          style="warn")]
    control_path = bench_dir / "occlusion_permuted_control.json"
    control_file, control_problem = read_json(control_path) if control_path.exists() else (None, None)
    blocks: list = [
        Heading("Occluded micro-expressions [stand-in]"),
        Paragraph("Every MER method with a composite experiment scored on clean clips and on copies with a synthetic "
                  "occluder (mask, glasses, block; preprocessing/occlusion.py), one run per cell on the synthetic "
                  "composite stand-in (benchmarks/occlusion.py). Not real data. "
                  f"Majority-class UF1: {_floor(data)}. Differences under about 0.05 are within what a seed "
                  "moves these methods.", style="note"),
    ]
    if control_problem:
        blocks.append(Paragraph(f"Control column not shown: {control_problem}.", style="warn"))
    listed = [m for m in data.get("benchmarked_methods", []) if isinstance(m, str)]
    order = list(NAMES)
    methods = sorted(listed, key=lambda m: (order.index(m) if m in order else len(order), m))
    for key, label in TABLES.items():
        table = data.get(key)
        if not isinstance(table, dict) or not any(isinstance(table.get(c), dict) and table[c] for c in CONDITIONS):
            continue
        control = (control_file or {}).get(key) if key == "holdout_database" else None
        control = control if isinstance(control, dict) else None
        reasons = (data.get("not_run_reasons") or {}).get(key)
        reasons = {m: str(why) for m, why in reasons.items() if m in methods} if isinstance(reasons, dict) else {}
        ran = [m for m in methods
               if m in reasons or any(isinstance((table.get(c) or {}).get(m), dict) for c in CONDITIONS)]
        blocks += [Heading(label[0].upper() + label[1:], 3), occlusion_table(table, ran, control)]
        blocks += [Paragraph(f"{NAMES.get(m, m)}: its missing cells are left unrun on purpose. {why}", style="note")
                   for m, why in reasons.items()]
    found, problems = seed_scores(bench_dir, data)
    over_seeds = seeds_table(found, [m for m in methods if any(k[1] == m for k in found)])
    if over_seeds is not None:
        blocks += [Heading("Holdout-database over seeds (seed 0 above and the runs of occlusion_seed<N>.json)", 3),
                   Paragraph("UF1 mean +- sample std over the seeds each cell has; a method scored with one seed "
                             "only says so. The seed spread is what an occluder's effect must exceed.", style="note"),
                   over_seeds]
    blocks += [Paragraph(f"Over seeds: {problem}.", style="warn") for problem in problems]
    return blocks


def row_seed(row: dict) -> int:
    """The seed a row ran with: its last ``seed=N`` override, else the experiments' default 0."""
    seeds = [o.partition("=")[2] for o in row.get("overrides", []) if isinstance(o, str) and o.startswith("seed=")]
    return int(seeds[-1]) if seeds and seeds[-1].isdigit() else 0


def seed_scores(bench_dir: Path, data: dict) -> tuple[dict, list[str]]:
    """``(condition, method) -> {seed: (uf1, file)}`` of the holdout-database cells over occlusion.json and the
    ``occlusion_seed<N>.json`` files, and the problems met (unreadable files, rows of other data, clashes)."""
    found: dict = {}
    problems = []
    files = [(bench_dir / "occlusion.json", data)]
    for path in sorted(bench_dir.glob("occlusion_seed*.json")):
        read, problem = read_json(path)
        if read is None:
            problems.append(f"{path.name} not read: {problem}")
            continue
        files.append((path, read))
    identity = data.get("data_identity")
    for path, content in files:
        table = content.get("holdout_database") if isinstance(content, dict) else None
        for condition in CONDITIONS:
            for method, row in ((table or {}).get(condition) or {}).items():
                if method not in NAMES or not finished(row):
                    continue
                uf1 = number(row["uf1"])
                if identity and row.get("data_identity") != identity:
                    problems.append(f"{path.name}: {condition}/{method} was scored on other data "
                                    f"({row.get('data_identity')}, not {identity}); left out")
                    continue
                seeds = found.setdefault((condition, method), {})
                seed = row_seed(row)
                if seed in seeds and seeds[seed][0] != uf1:
                    problems.append(f"{path.name}: {condition}/{method} seed {seed} scores {uf1:.4f}, "
                                    f"{seeds[seed][1]} {seeds[seed][0]:.4f}; the first is kept")
                    continue
                seeds.setdefault(seed, (uf1, path.name))
    return found, problems


def seeds_table(found: dict, methods: list[str]) -> Table | None:
    """UF1 mean +- sample std over seeds per cell (``n seeds``); None when no cell has two seeds."""
    if not any(len(seeds) > 1 for seeds in found.values()):
        return None
    rows = []
    for method in methods:
        cells = [Cell(NAMES.get(method, method))]
        for condition in CONDITIONS:
            values = [uf1 for uf1, _ in (found.get((condition, method)) or {}).values()]
            if not values:
                cells.append(Cell(NOT_RUN))
                continue
            spread = f" +- {statistics.stdev(values):.3f}" if len(values) > 1 else ""
            cells.append(Cell(f"{statistics.fmean(values):.3f}{spread} ({len(values)} seed"
                              f"{'s' if len(values) > 1 else ''})", style="standin"))
        rows.append(cells)
    return Table(["Method", *(f"{c} (UF1 over seeds)" for c in CONDITIONS)], rows)


def _floor(data: dict) -> str:
    value = number(data.get("majority_uf1"))
    return "unknown" if value is None else f"{value:.3f}"
