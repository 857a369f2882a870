"""A SEED-family stand-in with and without its session shift: plain LDA per protocol over generator seeds.

For ``--kind`` (default seed_iv; seed: benchmarks/eeg_synth.py measures SEED the same way) and generator seeds 0, 1,
2: write the default stand-in (15 subjects) and the same with the three session knobs at 0 (``session_offset_sd``,
``session_gain_sd``, ``session_rotation``; rawdata/synth/eeg.py: the shift draws from its own random stream, so
that variant differs from the default by the shift alone), then score LDA (lsqr, Ledoit-Wolf shrinkage,
training-window standardisation; benchmarks/eeg_protocols.py ``run_protocol``) on de_LDS windows per protocol:
subject-dependent (SEED-IV 16/8 per session), LOSO (sessions pooled), cross-session. Reported per seed and mean +-
std over seeds of the fold means. It measures what the shift does to a plain classifier; nothing is tuned on it.

    PYTHONPATH=. python benchmarks/eeg_session_shift.py [--kind seed_iv] [--seeds 0 1 2]
        -> benchmarks/results/eeg_session_shift.json
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

from core.io import write_json
from rawdata.synth import generate

OUT = Path(__file__).parent / "results" / "eeg_session_shift.json"
_spec = importlib.util.spec_from_file_location("eeg_protocols_bench", Path(__file__).parent / "eeg_protocols.py")
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)
NO_SHIFT = {"session_offset_sd": 0.0, "session_gain_sd": 0.0, "session_rotation": 0.0}
VARIANTS = {"default": {}, "no_session_shift": NO_SHIFT}
PROTOCOLS = tuple(p for p in bench.PROTOCOLS if p[0] != "random_windows_leaky")


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kind", default="seed_iv", choices=("seed", "seed_iv"))
    parser.add_argument("--subjects", type=int, default=15)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args(argv)
    bench.CLASSIFIERS = {"lda": bench.CLASSIFIERS["lda"]}
    report: dict = {"what": f"LDA on de_LDS windows per protocol, {args.kind} stand-in with / without its session "
                            "shift; seeds = generator seeds", "kind": args.kind, "subjects": args.subjects,
                    "variants": {}}
    for variant, options in VARIANTS.items():
        runs = {}
        for seed in args.seeds:
            with tempfile.TemporaryDirectory() as tmp:
                root = Path(tmp) / args.kind
                start = time.perf_counter()
                summary = generate(args.kind, root, subjects=args.subjects, seed=seed, **options)
                position, x, y, index = bench.window_matrix(root, args.kind)
                scores = {name: bench.run_protocol(name, opts, position, x, y, index, seed)["lda"]
                          for name, opts in PROTOCOLS}
            runs[str(seed)] = {"version": summary["version"], "windows": len(y),
                               "seconds": round(time.perf_counter() - start, 1),
                               "load_average_1_5_15": [round(v, 2) for v in os.getloadavg()],
                               "lda": {name: {k: s[k] for k in ("accuracy_mean", "accuracy_std", "macro_f1_mean")}
                                       for name, s in scores.items()}}
            print(variant, seed, {n: s["accuracy_mean"] for n, s in runs[str(seed)]["lda"].items()}, flush=True)
        over = {name: {"mean": round(float(np.mean([r["lda"][name]["accuracy_mean"] for r in runs.values()])), 4),
                       "std": round(float(np.std([r["lda"][name]["accuracy_mean"] for r in runs.values()])), 4)}
                for name, _ in PROTOCOLS}
        report["variants"][variant] = {"options": options, "runs": runs, "lda_accuracy_over_seeds": over}
    report["machine"] = {"python": platform.python_version(), "processor": platform.machine(),
                         "cpus": os.cpu_count()}
    write_json(args.out, report)
    return report


if __name__ == "__main__":
    main()
