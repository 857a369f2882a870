"""Time the CI quick check (`python -m experiments.quick_pipeline check`) stage by stage, with its start-up share.

Issue 15 keeps the quick check at <= 6 minutes on 2 cores. The test suite runs it (tests/test_regression.py) but
says only its total; this script measures where the time goes:

1. builds the check's scratch project exactly as the check does (:func:`experiments.quick_pipeline.build_project`);
2. runs ``dvc repro report`` there with every output line time-stamped (each stage's wall time runs from its
   "Running stage" line to the next one, as benchmarks/pipeline_time.py does), then the regression check itself;
3. for every training stage, splits its wall time into the training the run recorded (``seconds`` in
   results/<method>/<dataset>/run.json: folds, fit, scoring) and the rest, the stage's start-up and bookkeeping
   (interpreter, imports, MLflow store, data loading, result files);
4. times, each in a fresh interpreter (median of ``--probes``), the imports every training stage pays before it
   trains: ``experiments.runner`` (lightning, which imports torchmetrics and with it torchvision, transformers and
   scipy.signal), ``mlflow`` with its SQL store, and torch alone for scale.

Records the load averages before and after and the CPU seconds of the pipeline: the figures mean something only on
an idle machine (this VM's speed also varies by 10-40 % from hour to hour, so compare runs of the same sitting).

    python benchmarks/quick_check_time.py [--keep DIR] [--probes 3] [--out FILE]

Writes benchmarks/results/quick_check_time.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml
from pipeline_time import group, stage_seconds, timed_lines  # benchmarks/ is the script folder: on sys.path

from core.io import write_json
from core.provenance import git_commit
from experiments.quick_pipeline import OVERLAY, build_project, stage_environment, training_stage_entries

REPO = Path(__file__).resolve().parents[1]
PROBES = {
    "torch": "import torch",
    "experiments.runner (lightning, torchmetrics, ...)": "import experiments.runner",
    "mlflow + its SQL store": "import mlflow, mlflow.store.tracking.sqlalchemy_store",
}


def probe_import(statement: str, env: dict, repeats: int) -> float:
    """Median wall seconds of a fresh interpreter running ``statement`` (interpreter start-up included)."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", statement], cwd=REPO, env=env, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return round(statistics.median(times), 2)


def training_split(project: Path, stages: dict[str, float]) -> dict[str, dict]:
    """Per training stage: its wall seconds, the training its run.json records, and the difference."""
    params = yaml.safe_load((project / "params.yaml").read_text(encoding="utf-8"))
    out = {}
    for stage, entry in training_stage_entries(params).items():
        name, _, dataset = str(entry["id"]).partition("/")
        run = project / "results" / name / dataset / "run.json"
        if stage not in stages or not run.is_file():
            continue
        trained = float(json.loads(run.read_text(encoding="utf-8"))["seconds"])
        out[stage] = {"stage_seconds": stages[stage], "training_seconds": round(trained, 1),
                      "startup_and_bookkeeping_seconds": round(stages[stage] - trained, 1)}
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--keep", type=Path, default=None, help="build the scratch project here and keep it")
    parser.add_argument("--probes", type=int, default=3, help="fresh interpreters per import probe (median)")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "quick_check_time.json")
    args = parser.parse_args(argv)
    scratch = None if args.keep else tempfile.TemporaryDirectory(prefix="affect-quick-time-")
    project = args.keep or Path(scratch.name)
    env = stage_environment()  # the check's own: this interpreter's bin first, the scratch project's store
    try:
        load_before = os.getloadavg()
        project.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        build_project(project, overlay=OVERLAY)
        build_seconds = time.perf_counter() - started
        cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        lines, code = timed_lines(["dvc", "repro", "report"], project, env)
        repro_seconds = time.perf_counter() - started
        if code != 0:
            print("\n".join(line for _, line in lines[-40:]), file=sys.stderr)
            return code
        started = time.perf_counter()
        check = subprocess.run(["affect", "report", "--check-regression"], cwd=project, env=env,
                               capture_output=True, text=True)
        check_seconds = time.perf_counter() - started
        cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
        stages = stage_seconds(lines, repro_seconds)
        training = training_split(project, stages)
        probes = {name: probe_import(statement, env, args.probes) for name, statement in PROBES.items()}
        result = {
            "commit": git_commit(REPO), "cpus": os.cpu_count(),
            "load_average_before": load_before, "load_average_after": os.getloadavg(),
            "check_passed": check.returncode == 0,
            "total_seconds": round(build_seconds + repro_seconds + check_seconds, 1),
            "build_project_seconds": round(build_seconds, 1), "repro_seconds": round(repro_seconds, 1),
            "regression_check_seconds": round(check_seconds, 1),
            "cpu_seconds": round((cpu_after.ru_utime - cpu_before.ru_utime)
                                 + (cpu_after.ru_stime - cpu_before.ru_stime), 1),
            "by_kind": group(stages),
            "training_stages": training,
            "training_stages_total": {
                key: round(sum(t[key] for t in training.values()), 1)
                for key in ("stage_seconds", "training_seconds", "startup_and_bookkeeping_seconds")},
            "import_probe_seconds": probes,
            "stages": stages,
        }
    finally:
        if scratch is not None:
            scratch.cleanup()
    write_json(args.out, result)
    print(json.dumps({k: v for k, v in result.items() if k != "stages"}, indent=1))
    return 0 if result["check_passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
