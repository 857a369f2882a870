"""The report's data section: which data every result comes from, how the stand-ins were calibrated, and what the
stand-ins cannot show.

Read from files only (the report imports no rawdata or experiments code):

- the results: per task and dataset, stand-in or real, the number of test samples (users for recommendation), the
  folds, and each dataset's stand-in caveat (``standin_note`` in run.json, copied by the runner from the dataset's
  declaration in rawdata/datasets.py);
- ``data/raw/*/SYNTHETIC.json``: the stand-ins on disk (generator, seed, size, difficulty knobs);
- ``benchmarks/results/calibration.json`` (benchmarks/calibrate.py): the anchor (one reported number) and, per knob
  value, generator seed and size, the anchor experiment's measured UF1 and UAR on the stand-ins. The chosen knob
  value is the file's ``chosen`` (``{"knob": ..., "value": ...}`` or a bare value), else the value the stand-ins on
  disk were written with; the table shows the runs at that value, and one line sums up the search.
- ``benchmarks/results/eeg_calibration.json`` (benchmarks/eeg_calibration.py): the SEED stand-in's calibration, one
  anchor (DGCNN's subject-dependent SEED accuracy) and one knob (``pattern_scale``): the mean and range over the
  calibration draws per candidate value, the chosen value, and a warning when the SEED stand-in on disk was written
  with another value. Shown only when a SEED stand-in is on disk or the file exists.
"""

from __future__ import annotations

import statistics
from pathlib import Path

from reports.document import BulletList, Cell, Heading, Paragraph, Table
from reports.reported import Reported, lookup
from reports.results import Experiment, number, read_json
from reports.tables import DASH, Citations, data_style

CALIBRATION = Path("benchmarks") / "results" / "calibration.json"
EEG_CALIBRATION = Path("benchmarks") / "results" / "eeg_calibration.json"
RAW = Path("data") / "raw"
STANDIN_MARKER = "SYNTHETIC.json"
CALIBRATED_SOURCES = ("casme2", "samm", "smic")
SOURCE_LABELS = {"casme2": "CASME II", "samm": "SAMM", "smic": "SMIC"}


def data_section(experiments: list[Experiment], root: Path, reported: list[Reported], citations: Citations,
                 task_titles: dict[str, str]) -> list:
    blocks: list = [Heading("Data")]
    origin = origin_table(experiments, task_titles)
    if origin is not None:
        blocks.append(origin)
    standins = standins_on_disk(root / RAW)
    if standins:
        blocks.append(standins_table(standins))
    blocks.extend(calibration_blocks(root / CALIBRATION, standins, reported, citations))
    blocks.extend(eeg_calibration_blocks(root / EEG_CALIBRATION, standins, reported, citations))
    caveats = sorted({(e.dataset, str(e.reference.run.get("standin_note") or ""))
                      for e in experiments if e.reference and e.standin})
    notes = [f"{dataset}: {note}" for dataset, note in caveats if note]
    if notes:
        blocks += [Paragraph("What the stand-ins cannot show:", style="warn"), BulletList(notes)]
    return blocks


def origin_table(experiments: list[Experiment], task_titles: dict[str, str]) -> Table | None:
    """One row per task, dataset and kind of data: how many experiments, test samples and folds."""
    groups: dict[tuple[str, str, str], list[Experiment]] = {}
    for e in experiments:
        if e.reference is not None:
            groups.setdefault((e.task, e.dataset, e.data_label), []).append(e)
    if not groups:
        return None
    body = []
    for (task, dataset, label), members in groups.items():
        size_key = "n_test_users" if task == "rec" else "n_samples"
        sizes = sorted({int(v) for v in (number(e.reference.metrics.get(size_key)) for e in members)
                        if v is not None})
        folds = sorted({int(v) for v in (number(e.reference.metrics.get("n_folds")) for e in members)
                        if v is not None})
        unit = " test users" if task == "rec" else ""
        body.append([Cell(task_titles.get(task, task)), Cell(dataset), Cell(label, style=data_style(members[0])),
                     Cell(str(len(members))), Cell(_span(sizes) + unit if sizes else DASH),
                     Cell(_span(folds) if folds else DASH)])
    return Table(["Task", "Dataset", "Data", "Experiments", "Test samples", "Folds"], body,
                 caption="Where the results come from (stand-in: synthetic data written by `affect synth`, or "
                         "MovieLens-100k standing in for the papers' Amazon datasets)")


def _span(values: list[int]) -> str:
    return str(values[0]) if len(values) == 1 else f"{values[0]}–{values[-1]}"


def standins_on_disk(raw: Path) -> dict[str, dict]:
    """{dataset folder: SYNTHETIC.json} of the stand-ins under data/raw/."""
    found = {}
    for marker in sorted(raw.glob(f"*/{STANDIN_MARKER}")) if raw.is_dir() else []:
        data, _ = read_json(marker)
        if data is not None:
            found[marker.parent.name] = data
    return found


def standins_table(standins: dict[str, dict]) -> Table:
    body = []
    for name, marker in standins.items():
        parameters = marker.get("parameters") if isinstance(marker.get("parameters"), dict) else {}
        size = ", ".join(f"{parameters[k]} {k}" for k in ("subjects", "clips", "users", "items") if k in parameters)
        difficulty = parameters.get("difficulty") if isinstance(parameters.get("difficulty"), dict) else {}
        knob = f"amplitude_scale={difficulty['amplitude_scale']}" if "amplitude_scale" in difficulty else None
        if marker.get("dataset") == "seed" and "pattern_scale" in parameters:  # the SEED stand-in's calibrated knob
            knob = f"pattern_scale={parameters['pattern_scale']}"
        body.append([Cell(name), Cell(f"{marker.get('generator', '?')} v{marker.get('version', '?')}"),
                     Cell(str(marker.get("seed", "?"))), Cell(size or DASH), Cell(knob or DASH)])
    return Table(["Folder (data/raw/)", "Generator", "Seed", "Size", "Calibrated knob"], body,
                 caption="Stand-ins on disk (their SYNTHETIC.json)")


def chosen_value(calibration: dict, standins: dict[str, dict], knob: str) -> tuple[float | None, str]:
    """(value, where it comes from): calibration.json's ``chosen``, else the stand-ins' SYNTHETIC.json."""
    chosen = calibration.get("chosen")
    if isinstance(chosen, dict) and chosen.get("knob", knob) == knob and number(chosen.get("value")) is not None:
        return number(chosen["value"]), "calibration.json `chosen`"
    if number(chosen) is not None:
        return number(chosen), "calibration.json `chosen`"
    for name in CALIBRATED_SOURCES:
        difficulty = ((standins.get(name) or {}).get("parameters") or {}).get("difficulty") or {}
        if number(difficulty.get(knob)) is not None:
            return number(difficulty[knob]), f"data/raw/{name}/SYNTHETIC.json"
    return None, ""


def calibration_blocks(path: Path, standins: dict[str, dict], reported: list[Reported],
                       citations: Citations) -> list:
    data, problem = read_json(path)
    if data is None:
        note = ("No stand-in calibration found: run `.venv/bin/python benchmarks/calibrate.py` (writes "
                f"{CALIBRATION.as_posix()})." if problem and "missing" in problem else f"Calibration: {problem}")
        return [Paragraph(note, style="note")]
    runs = [r for r in data.get("runs") or [] if isinstance(r, dict)]
    anchor = data.get("anchor") if isinstance(data.get("anchor"), dict) else {}
    if not runs:
        return [Paragraph(f"{path.name} holds no calibration run.", style="note")]
    knob = str(runs[0].get("knob", "?"))
    value, source = chosen_value(data, standins, knob)
    at_value = [r for r in runs if r.get("knob") == knob and value is not None and number(r.get("value")) == value]
    blocks: list = [Heading("Stand-in calibration", 3)]
    experiment = str(anchor.get("experiment", "?"))
    name, _, dataset = experiment.partition("/")
    found = lookup(reported, name, dataset, "loso-3class", "uf1") if name and dataset else None
    ref = citations.number(found.citation if found and found.citation else str(anchor.get("source", "")))
    anchor_uf1, anchor_uar = number(anchor.get("uf1")), number(anchor.get("uar"))
    blocks.append(Paragraph(
        f"One anchor: {experiment} reported UF1 {_f(anchor_uf1)} / UAR {_f(anchor_uar)} [{ref}]. One generator knob "
        f"({knob}) was searched so that the anchor method measures about that on the stand-ins; every other knob "
        f"keeps its a-priori default. Chosen: {knob}={value if value is not None else '?'}"
        + (f" ({source})." if source else " (not recorded: every run is shown).")
        + " Only the anchor experiment was run for this; other methods' numbers on the stand-ins are measurements.",
        style="note"))
    shown = at_value or runs
    body = []
    for r in sorted(shown, key=lambda r: (number(r.get("value")) or 0, _scoring(r.get("fast") or {}),
                                          number(r.get("size")) or 0, r.get("seed", 0))):
        fast = r.get("fast") if isinstance(r.get("fast"), dict) else {}
        overall = fast.get("all") if isinstance(fast.get("all"), dict) else {}
        suite = r.get("suite") if isinstance(r.get("suite"), dict) else {}
        uf1 = number(overall.get("uf1"))
        row = [Cell(f"{knob}={r.get('value')}"), Cell(str(r.get("seed", "?"))), Cell(str(r.get("size", "?"))),
               Cell(f"{fast.get('n_samples', '?')} ({fast.get('n_subjects', '?')} subjects)"),
               Cell(_scoring(fast)), Cell(_f(uf1), style="standin"),
               Cell(_f(number(overall.get("uar"))), style="standin")]
        row += [Cell(_f(number((fast.get(s) or {}).get("uf1"))), style="standin") for s in CALIBRATED_SOURCES]
        row += [Cell(_f(number(suite.get("uf1"))) + " / " + _f(number(suite.get("uar"))) if suite else DASH),
                Cell(f"{uf1 - anchor_uf1:+.4f}" if uf1 is not None and anchor_uf1 is not None else DASH)]
        body.append(row)
    columns = ["Knob", "Generator seed", "Size", "Samples", "Feature z-scoring", "UF1 measured", "UAR measured"]
    columns += [f"{SOURCE_LABELS[s]} UF1" for s in CALIBRATED_SOURCES] + ["suite run UF1 / UAR",
                                                                           "UF1 minus anchor"]
    blocks.append(Table(columns, body, caption=f"{experiment} on the stand-ins (LOSO on the composite), "
                                               f"{'at the chosen value' if at_value else 'every run'}; anchor UF1 "
                                               f"{_f(anchor_uf1)}"))
    searched = sorted({(number(r.get("value")), _scoring(r.get("fast") or {})) for r in runs
                       if number(r.get("value")) is not None})
    if len(searched) > 1:
        means = []
        for v, scoring in searched:
            scores = [number(((r.get("fast") or {}).get("all") or {}).get("uf1")) for r in runs
                      if number(r.get("value")) == v and _scoring(r.get("fast") or {}) == scoring]
            scores = [s for s in scores if s is not None]
            if scores:
                spread = f" ± {statistics.stdev(scores):.3f}" if len(scores) > 1 else ""
                means.append(f"{v:g}, z-scoring {scoring} → {sum(scores) / len(scores):.3f}{spread}"
                             + (f" (n={len(scores)})" if len(scores) > 1 else ""))
        blocks.append(Paragraph(f"Search ({knob} → mean measured UF1 over the generator seeds at that value; the "
                                "search ran with the baseline's feature z-scoring on, the experiment now runs it "
                                "off, chosen by inner validation): " + "; ".join(means) + ".", style="note"))
    on_disk = {n: (((m.get("parameters") or {}).get("difficulty") or {}).get(knob)) for n, m in standins.items()
               if n in CALIBRATED_SOURCES}
    differing = {n: v for n, v in on_disk.items() if v is not None and value is not None and number(v) != value}
    if differing:
        blocks.append(Paragraph("The stand-ins on disk were written with another value: " + ", ".join(
            f"{n}: {knob}={v}" for n, v in sorted(differing.items())) + "; the calibration above does not describe "
            "them.", style="warn"))
    return blocks


def eeg_calibration_blocks(path: Path, standins: dict[str, dict], reported: list[Reported],
                           citations: Citations) -> list:
    """The SEED stand-in's calibration (module doc): nothing when neither the file nor a SEED stand-in is there."""
    seed_standins = {n: m for n, m in standins.items() if m.get("dataset") == "seed"}
    data, problem = read_json(path)
    if data is None:
        if not seed_standins:
            return []
        return [Paragraph(f"SEED stand-in calibration: {problem or 'unreadable'} ({EEG_CALIBRATION.as_posix()}; "
                          "`.venv/bin/python benchmarks/eeg_calibration.py` writes it).", style="note")]
    anchor = data.get("anchor") if isinstance(data.get("anchor"), dict) else {}
    knob = str(data.get("knob", "?"))
    summary = data.get("summary") if isinstance(data.get("summary"), dict) else {}
    chosen_entry = data.get("chosen") if isinstance(data.get("chosen"), dict) else {}
    chosen = number(chosen_entry.get("value"))
    target = number(anchor.get("value"))
    name, _, dataset = str(anchor.get("experiment", "?")).partition("/")
    found = lookup(reported, name, dataset, str(anchor.get("protocol", "")), str(anchor.get("metric", "")))
    ref = citations.number(found.citation if found and found.citation else str(anchor.get("source", "")))
    draws = ", ".join(str(d) for d in data.get("draws") or []) or "?"
    blocks: list = [Heading("SEED stand-in calibration", 3), Paragraph(
        f"One anchor: {anchor.get('experiment', '?')} reported {anchor.get('protocol', '?')} accuracy "
        f"{_f(target)} [{ref}]. One generator knob ({knob}) was searched on calibration draws ({draws}; never the "
        f"stand-in's own seed) under a rule written before its runs: the default "
        f"({data.get('default', '?')}) stays if the anchor lies within its range over the draws, else the value "
        f"with the closest mean. Chosen: {knob}={chosen if chosen is not None else 'not recorded'}"
        + (f" ({chosen_entry.get('why')})." if chosen_entry.get("why") else ".")
        + " Only the anchor experiment was run for this; every other SEED number (the other protocols, the other "
        "methods) is a measurement, not a fit.", style="note")]
    body = []
    for value, row in sorted(summary.items(), key=lambda kv: _key_number(kv[0]) or 0):
        if not isinstance(row, dict):
            continue
        mean = number(row.get("mean"))
        mark = " (chosen)" if chosen is not None and _key_number(value) == chosen else ""
        body.append([Cell(f"{knob}={value}{mark}"), Cell(str(row.get("n", "?"))),
                     Cell(_f(mean), style="standin"),
                     Cell(f"{_f(number(row.get('min')))}-{_f(number(row.get('max')))}", style="standin"),
                     Cell(f"{mean - target:+.4f}" if mean is not None and target is not None else DASH)])
    if body:
        blocks.append(Table(["Knob", "Draws", "Accuracy measured (mean)", "Range over draws", "Minus anchor"], body,
                            caption=f"{anchor.get('experiment', '?')} on the SEED calibration draws; anchor "
                                    f"{_f(target)}"))
    differing = {n: (m.get("parameters") or {}).get(knob) for n, m in seed_standins.items()}
    differing = {n: v for n, v in differing.items() if chosen is not None and number(v) != chosen}
    if differing:
        blocks.append(Paragraph("The SEED stand-in on disk was written with another value: " + ", ".join(
            f"{n}: {knob}={v}" for n, v in sorted(differing.items())) + "; the calibration above does not describe "
            "it.", style="warn"))
    return blocks


def _key_number(key: str) -> float | None:
    """A JSON object key holding a number ("0.14"), else None."""
    try:
        return float(key)
    except ValueError:
        return None


def _scoring(fast: dict) -> str:
    """The anchor baseline's feature z-scoring in one calibration run (runs before the field existed: on)."""
    return "off" if fast.get("standardize") is False else "on"


def _f(value: float | None) -> str:
    return DASH if value is None else f"{value:.4f}"
