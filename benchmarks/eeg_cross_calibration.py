"""Calibration probe of the cross-dataset SEED <-> SEED-IV stand-ins: why (or whether) shared class structure transfers.

Runs on CALIBRATION draws only (generator seeds 100+; never the pipeline's 18 nor the benchmarks' 0), writes both
stand-ins with the same seed (``affect synth seed`` / ``seed_iv``, rawdata/synth/eeg.py) and measures, per draw,
with the cheap probe of benchmarks/eeg_cross_dataset.py (per-dataset z-scoring without labels, LDA lsqr with
Ledoit-Wolf shrinkage, every window):

- ``cross``: cross-dataset accuracy / macro-F1 on the ``merged`` (3) and ``strict`` (2) shared classes, both
  directions, with the target's majority share (SEED-IV's merged classes are NOT balanced: sad + fear make
  "negative" half of its trials, so the SEED -> SEED-IV majority floor is 0.5, not 1/3);
- ``loso``: leave-one-subject-out inside each dataset on the same merged classes, z-scored the same way (the
  cross-SUBJECT part of the difficulty, without the cross-dataset part);
- ``class_mean_corr``: the correlation of each SEED class's mean z-scored window with each SEED-IV class's
  (310 features; no classifier): which SEED-IV classes look like which SEED class;
- optional ablations (``--ablate``, first draw only): the same with the subject-specific pattern off
  (``subject_specific=0``) and without the session shift, to size what the cross-subject part costs.

CALIBRATION RULE (written down before any measurement of the fixed generator; the project's rule: a stand-in is
calibrated against one reported anchor):
- no cross-dataset SEED <-> SEED-IV number was read from a paper text here; the quoted anchors are DGCNN's SEED
  ~90 % subject-dependent and ~80 % LOSO (reports/reported.csv notes, [R, verify]). Cross-dataset adds, to LOSO's
  unseen subjects, another recording set-up and other films / partly other classes, and the literature's cross-
  dataset SEED <-> SEED-IV figures sit well above chance and below LOSO: so the probe's cross-dataset accuracy
  should lie BELOW the probe's LOSO on SEED and WELL ABOVE chance;
- target: the LDA probe's merged cross-dataset accuracy, mean over the two directions and over the calibration
  draws (generator seeds 100, 101, 102; 15 subjects, the pipeline's count), in [0.55, 0.65], and below the same
  probe's SEED LOSO on those draws;
- knob: SEED-IV's family weight (the share of SEED's class pattern in SEED-IV's sad / fear / happy patterns; 0.7
  since the cross-dataset slice). A defect found first is fixed first. If the fixed generator with 0.7 lands in
  the band, 0.7 stays; otherwise the weight moves in steps of 0.1 (down when above the band, up when below, at
  most 1.0) on the calibration draws and the first weight in the band is taken. If even 1.0 stays below the band,
  the cross-subject knobs (shared with SEED, hence with SEED's own results) are what limits it: reported, not
  changed here.

    PYTHONPATH=. python benchmarks/eeg_cross_calibration.py --label v3 [--draws 100 101 102] [--subjects 15]
        [--ablate] [--set-iv family_weight=0.6]
    -> benchmarks/results/eeg_cross_calibration.json (one entry per --label; other labels kept)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
from eeg_cross_dataset import cross, features, lda, matrix  # benchmarks/ is the script folder: on sys.path
from sklearn.metrics import accuracy_score, f1_score

from core.io import write_json
from datamodules.eeg_protocols import cross_dataset_index
from rawdata.layouts import parse
from rawdata.synth import generate

OUT = Path(__file__).parent / "results" / "eeg_cross_calibration.json"
FORBIDDEN_SEEDS = {0, 18}  # the benchmarks' and the pipeline's draws: never calibrate on them


def zscored(index, trials) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(x, y, dataset, subject) of every window of a cross-dataset index, each dataset z-scored on its own."""
    ids, x, y = matrix(index, trials)
    trial_rows = index.set_index("sample_id")
    owner = [w.rsplit("#w", 1)[0] for w in ids]
    dataset = trial_rows.loc[owner, "dataset"].to_numpy()
    subject = trial_rows.loc[owner, "subject"].to_numpy()
    for name in np.unique(dataset):
        rows = dataset == name
        x[rows] = (x[rows] - x[rows].mean(0)) / (x[rows].std(0) + 1e-8)
    return x, y, dataset, subject


def loso(x, y, subject) -> dict:
    acc, f1 = [], []
    for s in np.unique(subject):
        test = subject == s
        pred = lda().fit(x[~test], y[~test]).predict(x[test])
        acc.append(accuracy_score(y[test], pred))
        f1.append(f1_score(y[test], pred, average="macro"))
    return {"accuracy_mean": round(float(np.mean(acc)), 4), "macro_f1_mean": round(float(np.mean(f1)), 4),
            "folds": len(acc)}


def probe(root: Path, seed: int, subjects: int, seed_options: dict, iv_options: dict, with_loso: bool = True) -> dict:
    roots = {"seed": root / "seed", "seed_iv": root / "seed_iv"}
    generate("seed", roots["seed"], subjects=subjects, seed=seed, psd=False, **seed_options)
    generate("seed_iv", roots["seed_iv"], subjects=subjects, seed=seed, psd=False, **iv_options)
    indices = [parse(kind, path).index for kind, path in roots.items()]
    trials = {k: v for index in indices for k, v in features(index).items()}
    out: dict = {"cross": {}}
    for mapping in ("merged", "strict"):
        out["cross"][mapping] = cross(indices, trials, mapping)
    merged = cross_dataset_index(indices, "merged")
    if with_loso:
        x, y, dataset, subject = zscored(merged, trials)
        out["loso_merged_classes"] = {d: loso(x[dataset == d], y[dataset == d], subject[dataset == d])
                                      for d in ("seed", "seed_iv")}
    full = merged.assign(label=merged["original_label"])  # SEED-IV's sad and fear apart
    xo, yo, do, _ = zscored(full, trials)
    means = {d: {str(c): xo[(do == d) & (yo == c)].mean(0) for c in np.unique(yo[do == d])}
             for d in ("seed", "seed_iv")}
    names = {"seed": {"-1": "negative", "0": "neutral", "1": "positive"},
             "seed_iv": {"0": "neutral", "1": "sad", "2": "fear", "3": "happy"}}
    out["class_mean_corr"] = {
        f"seed:{names['seed'][a]}": {f"seed_iv:{names['seed_iv'][b]}": round(float(np.corrcoef(ma, mb)[0, 1]), 3)
                                     for b, mb in means["seed_iv"].items()}
        for a, ma in means["seed"].items()}
    return out


def summarise(draws: dict, seed_loso: dict) -> dict:
    """Mean merged cross-dataset accuracy over draws and directions against the band and SEED's LOSO
    (``seed_loso``: draw -> accuracy; the SEED stand-in is the same in every entry, so any entry's LOSO serves)."""
    merged = [r["cross"]["merged"][k]["accuracy"] for r in draws.values() for k in r["cross"]["merged"]
              if k.startswith("source=")]
    mean, loso_mean = float(np.mean(merged)), float(np.mean([seed_loso[d] for d in draws]))
    return {"merged_cross_accuracy_mean": round(mean, 4), "seed_loso_accuracy_mean": round(loso_mean, 4),
            "target_band": [0.55, 0.65], "in_target_band": bool(0.55 <= mean <= 0.65 and mean < loso_mean)}


def options(pairs: list[str]) -> dict:
    out = {}
    for pair in pairs:
        key, value = pair.split("=", 1)
        out[key] = json.loads(value)
    return out


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--label", required=True, help="entry name in the JSON (e.g. the generator version)")
    parser.add_argument("--draws", type=int, nargs="+", default=[100, 101, 102])
    parser.add_argument("--subjects", type=int, default=15)
    parser.add_argument("--ablate", action="store_true")
    parser.add_argument("--no-loso", action="store_true", help="skip LOSO (the SEED stand-in, hence its LOSO, is "
                        "the same as in the file's other entries: generate_seed is unchanged)")
    parser.add_argument("--set-iv", nargs="*", default=[], help="extra seed_iv generator options key=json")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    if FORBIDDEN_SEEDS & set(args.draws):
        parser.error(f"calibration draws must avoid the pipeline's / benchmarks' seeds {sorted(FORBIDDEN_SEEDS)}")
    load_before, start = os.getloadavg(), time.perf_counter()
    iv_options = options(args.set_iv)
    entry: dict = {"draws": {}, "subjects": args.subjects, "seed_iv_options": iv_options}
    with tempfile.TemporaryDirectory() as tmp:
        for seed in args.draws:
            entry["draws"][str(seed)] = probe(Path(tmp) / str(seed), seed, args.subjects, {}, iv_options,
                                              with_loso=not args.no_loso)
            print(seed, json.dumps(entry["draws"][str(seed)]["cross"]["merged"]), flush=True)
        if args.ablate:
            seed = args.draws[0]
            shift_off = {"session_offset_sd": 0.0, "session_gain_sd": 0.0, "session_rotation": 0.0}
            entry["ablations"] = {
                f"draw {seed}, subject_specific=0": probe(Path(tmp) / "a1", seed, args.subjects,
                                                           {"subject_specific": 0.0},
                                                           {**iv_options, "subject_specific": 0.0}),
                f"draw {seed}, no session shift": probe(Path(tmp) / "a2", seed, args.subjects, shift_off,
                                                         {**iv_options, **shift_off}),
            }
    from rawdata.synth import eeg

    entry["generator_versions"] = {"seed": eeg.VERSION_SEED, "seed_iv": getattr(eeg, "VERSION_IV", eeg.VERSION)}
    entry["load_average"] = {"before": [round(v, 2) for v in load_before],
                             "after": [round(v, 2) for v in os.getloadavg()]}
    entry["seconds"] = round(time.perf_counter() - start, 1)
    report = json.loads(args.out.read_text()) if args.out.exists() else {}
    seed_loso = {d: r["loso_merged_classes"]["seed"]["accuracy_mean"]
                 for e in [*report.get("entries", {}).values(), entry] for d, r in e["draws"].items()
                 if "loso_merged_classes" in r}
    entry["summary"] = summarise(entry["draws"], seed_loso)
    report.setdefault("what", "LDA probe of the cross-dataset stand-ins on calibration draws "
                              "(benchmarks/eeg_cross_calibration.py docstring: the rule and the target)")
    report["machine"] = {"python": platform.python_version(), "cpus": os.cpu_count()}
    report.setdefault("entries", {})[args.label] = entry
    write_json(args.out, report)
    print(args.label, entry["summary"])
    return report


if __name__ == "__main__":
    main()
