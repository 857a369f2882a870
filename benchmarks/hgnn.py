"""HGNN and its ablations on the MODMA stand-in, per subject: writes benchmarks/results/hgnn.json.

One stand-in (``affect synth modma``, generator seed 0, ``SUBJECTS`` subjects of ``SECONDS`` s) and, on it, the
experiments hgnn/modma, hgnn-no_ignn/modma and hgnn-no_gpum/modma plus hgnn/modma with permuted subject labels
(the negative control), each a whole ``affect train`` process (benchmarks/timed_runs.py). To fit the ~10 min CPU
budget of this measurement the runs use ``OVERRIDES`` (fewer folds, 2-s windows, fewer epochs than the
experiments' defaults): the figures measure the pipeline and the ablations' ordering on a small stand-in, not a
method's MODMA accuracy. Reported per run: subject-level accuracy / macro-F1 / F1 of MDD (each test subject's mean
window score), window-level accuracy / macro-F1, the subjects' majority floor, wall and CPU seconds, load average.

    PYTHONPATH=$PWD nice -n 15 .venv/bin/python benchmarks/hgnn.py
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from benchmarks.timed_runs import run_experiment
from core.io import write_json
from rawdata.synth import generate

SUBJECTS, SECONDS, GENERATOR_SEED = 16, 16, 0
OVERRIDES = ("protocol.n_folds=4", "data.window_s=2", "trainer.max_epochs=15", "trainer.num_threads=1")
RUNS = (("hgnn", "hgnn/modma", ()), ("hgnn-no_ignn", "hgnn-no_ignn/modma", ()),
        ("hgnn-no_gpum", "hgnn-no_gpum/modma", ()),
        ("hgnn permuted labels", "hgnn/modma", ("data.negative_control=permuted_labels",)))
KEYS = ("subject_level_accuracy", "subject_level_f1", "subject_level_f1_positive", "subject_level_majority_accuracy",
        "accuracy", "uf1", "majority_accuracy", "n_samples", "n_folds")


def main() -> None:
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="hgnn_bench_") as scratch:
        scratch = Path(scratch)
        data = scratch / "modma"
        generate("modma", data, subjects=SUBJECTS, seed=GENERATOR_SEED, seconds=SECONDS)
        runs = []
        for label, exp_id, extra in RUNS:
            result = run_experiment(exp_id, 0, scratch / label.replace(" ", "_"),
                                    (f"data.eeg_root={data}", *OVERRIDES, *extra))
            metrics = result.pop("metrics")
            result["scores"] = {k: metrics.get(k) for k in KEYS}
            runs.append({"label": label, **result})
            print(label, result["scores"], result["cpu_seconds"], flush=True)
    out = {"what": "HGNN and ablations on the MODMA stand-in, subject-level and window-level scores",
           "standin": {"subjects": SUBJECTS, "seconds": SECONDS, "generator_seed": GENERATOR_SEED},
           "overrides": list(OVERRIDES), "training_seed": 0, "runs": runs,
           "load_average_1_5_15_at_end": [round(v, 2) for v in os.getloadavg()],
           "total_wall_seconds": round(time.time() - started, 1),
           "note": "one generator seed and one training seed: subject-level figures move in steps of 1/16"}
    write_json(Path(__file__).parent / "results" / "hgnn.json", out)


if __name__ == "__main__":
    main()
