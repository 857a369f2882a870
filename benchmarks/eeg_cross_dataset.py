"""Cross-dataset SEED <-> SEED-IV on shared classes with LDA, next to each dataset's own subject-dependent score.

Writes the SEED and SEED-IV stand-ins (``affect synth seed`` / ``seed_iv``, rawdata/synth/eeg.py: DE-level model
without a head model; SEED-IV's class patterns lean on SEED's by construction, see ``generate_seed_iv``) with the
same seed, or reads ``--seed-root`` / ``--seed-iv-root`` (licensed copies), maps both indices onto the shared
classes (datamodules/eeg_protocols.py ``CLASS_MAPS``: ``merged`` 3 classes, ``strict`` 2 classes), and per fold
of ``cross_dataset`` (one per direction) standardises each dataset's windows with ITS OWN statistics (per-dataset
z-scoring of the features, computed without labels; a choice, made a priori, because the two recordings differ
in level), fits LDA (lsqr, Ledoit-Wolf shrinkage) on every source window and scores accuracy and macro-F1 on
every target window. Chance: 1/3 (merged) and 1/2 (strict); the target's majority share is written per fold
(SEED-IV's merged classes are not balanced: sad + fear make "negative" half of its windows). For reference, the
same LDA's subject-dependent score on each dataset's own classes (SEED 9/6, SEED-IV 16/8 split, training statistics
only).

    PYTHONPATH=. python benchmarks/eeg_cross_dataset.py [--subjects 15] [--seed 0]
    -> benchmarks/results/eeg_cross_dataset.json
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.metrics import accuracy_score, f1_score

from core.io import write_json
from datamodules.eeg_protocols import CLASS_MAPS, cross_dataset_index, eeg_folds, trial_of, windows_of
from rawdata.layouts import parse
from rawdata.layouts.seed import load_trials
from rawdata.synth import generate

OUT = Path(__file__).parent / "results" / "eeg_cross_dataset.json"


def lda():
    return LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto")


def features(index) -> dict[str, np.ndarray]:
    trials = load_trials(index, "de_LDS")
    return {s: trials[s].reshape(len(trials[s]), -1) for s in index["sample_id"]}


def matrix(index, trials: dict[str, np.ndarray]) -> tuple[list[str], np.ndarray, np.ndarray]:
    labels = dict(zip(index["sample_id"], index["label"], strict=True))
    ids = windows_of(index)
    x = np.concatenate([trials[s] for s in index["sample_id"]])
    return ids, x, np.array([labels[trial_of(w)] for w in ids])


def subject_dependent(index, trials) -> dict:
    ids, x, y = matrix(index, trials)
    position = {w: i for i, w in enumerate(ids)}
    acc = []
    for fold in eeg_folds(index, "subject_dependent"):
        tr = np.fromiter((position[w] for w in fold.train), dtype=int)
        te = np.fromiter((position[w] for w in fold.test), dtype=int)
        mean, std = x[tr].mean(0), x[tr].std(0) + 1e-8
        acc.append(accuracy_score(y[te], lda().fit((x[tr] - mean) / std, y[tr]).predict((x[te] - mean) / std)))
    return {"folds": len(acc), "accuracy_mean": round(float(np.mean(acc)), 4),
            "accuracy_std": round(float(np.std(acc)), 4)}


def cross(indices, trials, mapping: str) -> dict:
    index = cross_dataset_index(indices, mapping)
    ids, x, y = matrix(index, trials)
    dataset = np.array([w.split("_", 1)[0] + ("_iv" if w.startswith("seed_iv_") else "") for w in ids])
    for name in np.unique(dataset):  # per-dataset z-scoring (no labels used)
        rows = dataset == name
        x[rows] = (x[rows] - x[rows].mean(0)) / (x[rows].std(0) + 1e-8)
    position = {w: i for i, w in enumerate(ids)}
    out = {"classes": sorted({str(v) for v in y}), "chance": round(1 / len(set(y)), 4)}
    for fold in eeg_folds(index, "cross_dataset"):
        tr = np.fromiter((position[w] for w in fold.train), dtype=int)
        te = np.fromiter((position[w] for w in fold.test), dtype=int)
        pred = lda().fit(x[tr], y[tr]).predict(x[te])
        shares = np.unique(y[te], return_counts=True)[1] / len(te)
        out[fold.name] = {"accuracy": round(float(accuracy_score(y[te], pred)), 4),
                          "macro_f1": round(float(f1_score(y[te], pred, average="macro")), 4),
                          "majority": round(float(shares.max()), 4),  # merged SEED-IV: sad + fear = half
                          "train_windows": len(tr), "test_windows": len(te)}
    return out


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=15)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--seed-root", default=None)
    parser.add_argument("--seed-iv-root", default=None)
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args(argv)
    load_before, start = os.getloadavg(), time.perf_counter()
    versions = {}
    with tempfile.TemporaryDirectory() as tmp:
        roots = {"seed": args.seed_root, "seed_iv": args.seed_iv_root}
        for kind in roots:
            if roots[kind] is None:
                roots[kind] = Path(tmp) / kind
                versions[kind] = generate(kind, roots[kind], subjects=args.subjects, seed=args.seed)["version"]
        indices = [parse(kind, root).index for kind, root in roots.items()]
        trials = {k: v for index in indices for k, v in features(index).items()}
        data_seconds = round(time.perf_counter() - start, 2)
        own = {str(index["dataset"].iloc[0]): subject_dependent(index, trials) for index in indices}
        results = {mapping: cross(indices, trials, mapping) for mapping in CLASS_MAPS}
    report = {
        "what": "LDA (lsqr, Ledoit-Wolf) on de_LDS windows; cross-dataset folds with per-dataset z-scoring",
        "data": {"roots": {k: str(v) if args.seed_root or args.seed_iv_root else "stand-in" for k, v in roots.items()},
                 "subjects": args.subjects, "seed": args.seed, "seconds": data_seconds,
                 "generator_versions": versions},
        "subject_dependent_own_classes": own,
        "cross_dataset": results,
        "note": "stand-ins share class patterns by construction (rawdata/synth/eeg.py generate_seed_iv): the "
                "transfer measured here is a property of the generator, not of SEED / SEED-IV",
        "machine": {"python": platform.python_version(), "processor": platform.machine()},
        "load_average": {"before": [round(v, 2) for v in load_before],
                         "after": [round(v, 2) for v in os.getloadavg()]},
        "seconds": round(time.perf_counter() - start, 2),
    }
    write_json(args.out, report)
    print(own)
    for mapping, r in results.items():
        print(mapping, {k: v for k, v in r.items()})
    return report


if __name__ == "__main__":
    main()
