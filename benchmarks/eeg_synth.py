"""SEED stand-in: generation time, size and plain LDA per protocol over 3 generator seeds: the default stand-in,
the same without its session shift (rawdata/synth/eeg.py version 1's model) and with the head model
(rawdata/synth/eeg.py ``head_model``; rawdata/synth/eeg_head.py).

For each variant and generator seed 0, 1, 2: write the stand-in (15 subjects, default knobs), time it, measure
its size on disk, then score LDA (lsqr, Ledoit-Wolf shrinkage; training-window standardisation) on de_LDS
windows per protocol (datamodules/eeg_protocols.py: subject-dependent 9/6, LOSO sessions pooled, cross-session,
and the leaky random-window diagnostic), as benchmarks/eeg_protocols.py does. Reported: per seed, and mean +- std
over seeds of the fold means. Nothing here tunes a knob: it measures. The stand-in's one calibrated knob
(``pattern_scale``, version 3) is set by benchmarks/eeg_calibration.py against DGCNN's subject-dependent SEED accuracy
(90.4 %, Song et al., IEEE TAFFC 2018, DOI 10.1109/TAFFC.2018.2817622); an LDA probe is not that anchor's method, so
its scores here are measurements beside it. ``--variants`` runs some variants only (``--merge`` folds such files into
one, and refuses a variant that two files hold differently).

    PYTHONPATH=. python benchmarks/eeg_synth.py [--subjects 15] [--variants plain ...]
        -> benchmarks/results/eeg_synth.json
    PYTHONPATH=. python benchmarks/eeg_synth.py --merge A.json B.json --out benchmarks/results/eeg_synth.json
"""

from __future__ import annotations

import argparse
import importlib.util
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

from core.io import write_json
from rawdata.synth import generate
from reports.results import read_json

OUT = Path(__file__).parent / "results" / "eeg_synth.json"
_spec = importlib.util.spec_from_file_location("eeg_protocols_bench", Path(__file__).parent / "eeg_protocols.py")
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)
# "plain" is the default stand-in (with the session shift); "no_session_shift" is the same without it (version 1's
# model at the current pattern_scale: the shift draws from its own random stream)
NO_SHIFT = {"session_offset_sd": 0.0, "session_gain_sd": 0.0, "session_rotation": 0.0}
VARIANTS = {"plain": {}, "no_session_shift": NO_SHIFT, "head_model": {"head_model": True}}


def merge(files: list[Path]) -> dict:
    """One results file from files of runs over some variants each (``--variants``). The files must be on one
    generator version, and a variant that two files hold must hold the same runs in both: otherwise an error names
    both files (never a silent overwrite by the later one)."""
    merged: dict = {}
    origin: dict[str, Path] = {}
    for path in files:
        data, problem = read_json(path)
        if data is None or not isinstance(data.get("variants"), dict):
            raise SystemExit(f"{path}: not a results file of benchmarks/eeg_synth.py "
                             f"({problem or 'no variants table (variant -> runs)'})")
        if merged and data.get("generator_version") != merged.get("generator_version"):
            raise SystemExit(f"{path}: generator version {data.get('generator_version')} differs from "
                             f"{merged.get('generator_version')} of {files[0]}; one file holds one generator version")
        for variant, entry in data["variants"].items():
            if variant in origin and merged["variants"][variant] != entry:
                raise SystemExit(f"{path}: variant {variant} differs from the one already read from "
                                 f"{origin[variant]}; remove one of them")
            origin.setdefault(variant, path)
        variants = {**merged.get("variants", {}), **data["variants"]}
        merged = {**data, **merged, "variants": variants}
    return {**merged, "merged_from": [str(f) for f in files]}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=15)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS))
    parser.add_argument("--merge", nargs="+", default=None, help="files of runs over some variants each")
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args(argv)
    if args.merge:
        merged = merge([Path(f) for f in args.merge])
        write_json(args.out, merged)
        return merged
    bench.CLASSIFIERS = {"lda": bench.CLASSIFIERS["lda"]}
    report: dict = {"what": "LDA on de_LDS windows per protocol; seeds = generator seeds", "variants": {}}
    version = None
    for variant in args.variants:
        options = VARIANTS[variant]
        runs = {}
        for seed in args.seeds:
            with tempfile.TemporaryDirectory() as tmp:
                root = Path(tmp) / "seed"
                start = time.perf_counter()
                version = generate("seed", root, subjects=args.subjects, seed=seed, **options)["version"]
                seconds = round(time.perf_counter() - start, 2)
                size = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
                position, x, y, index = bench.window_matrix(root)
                scores = {name: bench.run_protocol(name, opts, position, x, y, index, seed)["lda"]["accuracy_mean"]
                          for name, opts in bench.PROTOCOLS}
            runs[str(seed)] = {"generate_seconds": seconds, "bytes": size, "windows": len(y), "lda": scores}
            print(variant, seed, runs[str(seed)], flush=True)
        summary = {name: {"mean": round(float(np.mean([r["lda"][name] for r in runs.values()])), 4),
                          "std": round(float(np.std([r["lda"][name] for r in runs.values()])), 4)}
                   for name, _ in bench.PROTOCOLS}
        report["variants"][variant] = {"options": options, "runs": runs, "lda_over_seeds": summary}
    report["generator_version"] = version
    report["calibration"] = "pattern_scale from benchmarks/eeg_calibration.py (benchmarks/results/eeg_calibration.json)"
    report["machine"] = {"python": platform.python_version(), "processor": platform.machine()}
    write_json(args.out, report)
    return report


if __name__ == "__main__":
    main()
