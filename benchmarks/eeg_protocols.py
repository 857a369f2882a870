"""EEG protocol gap and leak on the SEED stand-in: LDA (shrinkage) and logistic regression per protocol.

Writes the SEED stand-in (``affect synth seed``, slice-1 model without a head model: rawdata/synth/eeg.py) to a
temporary folder, or reads ``--root`` (a stand-in or the user's licensed copy), parses it
(rawdata/layouts/seed.py), takes ``de_LDS`` (62 channels x 5 bands = 310 features per one-second window) and, for
every fold of each protocol (datamodules/eeg_protocols.py), standardises with the TRAINING windows' statistics
only, fits the classifier on training windows and scores accuracy and macro-F1 on the test windows. Reported:
mean +- std over folds (subject-dependent and the leaky split: subject-sessions; LOSO: subjects, sessions pooled;
cross-session: subject x held-out session), the number of trials shared by train and test (0 except in the leaky
split), and seconds. The leaky random-window split is a diagnostic: its score above subject-dependent's is the
size of the leak on this stand-in, not a result.

    PYTHONPATH=. python benchmarks/eeg_protocols.py [--subjects 15] [--seed 0] [--root DIR]
    -> benchmarks/results/eeg_protocols.json
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score

from core.io import write_json
from datamodules.eeg_protocols import eeg_folds, shared_trials, trial_of, windows_of
from rawdata.layouts import parse
from rawdata.layouts.seed import load_trials
from rawdata.synth import generate

OUT = Path(__file__).parent / "results" / "eeg_protocols.json"
PROTOCOLS = (("subject_dependent", {}), ("loso", {"sessions": "pooled"}), ("cross_session", {}),
             ("random_windows_leaky", {"test_fraction": 0.4}))
CLASSIFIERS = {
    "lda": lambda: LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto"),
    "logreg": lambda: LogisticRegression(C=0.1, max_iter=500),
}


def window_matrix(root: Path, kind: str = "seed") -> tuple[dict[str, int], np.ndarray, np.ndarray, object]:
    index = parse(kind, root).index  # seed or seed_iv (the same de_LDS keys)
    trials = load_trials(index, "de_LDS")
    x = np.concatenate([trials[s].reshape(len(trials[s]), -1) for s in index["sample_id"]])
    labels = dict(zip(index["sample_id"], index["label"], strict=True))
    ids = windows_of(index)
    y = np.array([labels[trial_of(w)] for w in ids])
    return {w: i for i, w in enumerate(ids)}, x, y, index


def run_protocol(name: str, options: dict, position: dict[str, int], x: np.ndarray, y: np.ndarray, index,
                 seed: int) -> dict:
    folds = eeg_folds(index, name, seed=seed, **options)
    out = {"options": options, "folds": len(folds), "shared_trials": sum(len(shared_trials(f)) for f in folds)}
    for clf_name, make in CLASSIFIERS.items():
        start = time.perf_counter()
        acc, f1 = [], []
        for fold in folds:
            tr = np.fromiter((position[w] for w in fold.train), dtype=int)
            te = np.fromiter((position[w] for w in fold.test), dtype=int)
            mean, std = x[tr].mean(0), x[tr].std(0) + 1e-8  # training windows only
            model = make().fit((x[tr] - mean) / std, y[tr])
            pred = model.predict((x[te] - mean) / std)
            acc.append(accuracy_score(y[te], pred))
            f1.append(f1_score(y[te], pred, average="macro"))
        out[clf_name] = {"accuracy_mean": round(float(np.mean(acc)), 4), "accuracy_std": round(float(np.std(acc)), 4),
                         "macro_f1_mean": round(float(np.mean(f1)), 4), "macro_f1_std": round(float(np.std(f1)), 4),
                         "seconds": round(time.perf_counter() - start, 2)}
    return out


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=15)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--root", default=None, help="a SEED folder to read instead of writing the stand-in")
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args(argv)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(args.root) if args.root else Path(tmp) / "seed"
        version = None
        if not args.root:
            version = generate("seed", root, subjects=args.subjects, seed=args.seed)["version"]
        position, x, y, index = window_matrix(root)
        data_seconds = round(time.perf_counter() - start, 2)
        results = {name: run_protocol(name, options, position, x, y, index, args.seed)
                   for name, options in PROTOCOLS}
    report = {
        "what": "LDA (lsqr, Ledoit-Wolf shrinkage) and logistic regression (C=0.1) on de_LDS windows, "
                "standardised on training windows",
        "data": {"root": args.root or "stand-in (affect synth seed)", "subjects": int(index["subject"].nunique()),
                 "trials": len(index), "windows": len(y), "seed": args.seed, "seconds": data_seconds,
                 "generator_version": version},
        "protocols": results,
        "leak_accuracy_lda": round(results["random_windows_leaky"]["lda"]["accuracy_mean"]
                                   - results["subject_dependent"]["lda"]["accuracy_mean"], 4),
        "note": "random_windows_leaky is a leaky diagnostic (windows of one trial on both sides), not a result; "
                "a written stand-in is the default one without a head model, its pattern_scale calibrated against "
                "DGCNN's subject-dependent anchor from version 3 on (rawdata/synth/eeg.py; "
                "benchmarks/results/eeg_calibration.json)",
        "machine": {"python": platform.python_version(), "processor": platform.machine()},
        "seconds": round(time.perf_counter() - start, 2),
    }
    write_json(args.out, report)
    for name, r in results.items():
        print(f"{name:22s} folds {r['folds']:3d} shared trials {r['shared_trials']:4d}  "
              + "  ".join(f"{c} {r[c]['accuracy_mean']:.3f} +- {r[c]['accuracy_std']:.3f}" for c in CLASSIFIERS))
    return report


if __name__ == "__main__":
    main()
