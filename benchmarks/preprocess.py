"""Speed of the preprocessing steps and their accuracy against the stand-in generator's ground truth.

Measured (see the targets of the preprocessing issue):
- `micro`: one 128x128 onset/apex pair with TV-L1 (params.yaml settings), DIS and Farneback; dlib landmarks per
  frame (upscale 1 and 2); magnification, LBP-TOP and HSDG of one clip. One OpenCV thread, median wall and
  CPU seconds of repeats, on crops of skimage's astronaut portrait.
- `pipeline`: the default CASME II stand-in (`standins.casme2` of params.yaml) generated into a scratch folder
  (not timed as preprocessing), then every stage from `index` to `features` with `preprocess.n_jobs` workers
  (wall seconds per stage and in all, and the CPU seconds the clips took divided by the workers: about the
  wall time on idle cores, since the 2-core machine is shared), then a second `affect preprocess all` in a
  fresh process with nothing changed (resume makes it a no-op; the time includes start-up and imports).
- `landmarks_vs_truth`: the generator's true 68 points of every frame (`landmarks_moved`, raw pixels) mapped
  into the crop with each clip's stored transform, against the landmarks stage's output: mean, median and 95th
  percentile point error in crop pixels, and the mean error divided by the true inter-ocular distance (NME);
  also for predictions at upscale 1 on the same crops (`landmarks_vs_truth_upscale1`), to compare.
- `flow_vs_truth`: per clip, the landmarks the AUs move (true AU displacement at the apex at least half the
  clip's largest one; eye points left out when a blink overlaps onset..apex) form the moving region. The
  true onset -> apex displacement of those points (mapped into the crop) is compared with the flow sampled
  at their onset positions (bilinear): mean magnitudes, their ratio, the mean end-point error, and the mean
  flow magnitude per AU amplitude (the largest AU amplitude of the clip in crop px).
  Done for the stage's flow (TV-L1) and, on the same crops, for DIS and Farneback.

Writes benchmarks/results/preprocess.json. Run: `.venv/bin/python benchmarks/preprocess.py [--workdir DIR]`.
The machine's load average is recorded next to the timings: the 2-core machine is shared.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import skimage.data
from omegaconf import OmegaConf

from core.config import load_params
from core.io import write_json
from preprocessing import faces, flow, hsdg, landmarks, lbptop, magnify
from preprocessing.params import stage_params
from preprocessing.stages import ORDER, STAGES, onset_apex_positions, run_stage
from rawdata.index import load_index

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "preprocess.json"
DATASET = "casme2"


def median_seconds(fn, repeats: int = 7) -> dict[str, float]:
    """Median wall and CPU seconds of `fn()` after one warm-up call (model loading, first allocations).

    On a shared machine the wall time includes waiting for a core; the CPU time of these single-threaded
    calls is what they cost on an idle core.
    """
    fn()
    wall, cpu = [], []
    for _ in range(repeats):
        start_wall, start_cpu = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - start_wall)
        cpu.append(time.process_time() - start_cpu)
    return {"wall": statistics.median(wall), "cpu": statistics.median(cpu)}


def micro_benchmarks(params) -> dict:
    cv2.setNumThreads(1)
    portrait = np.ascontiguousarray(skimage.data.astronaut()[40:280, 100:340])
    aligned = faces.align_clip(np.stack([portrait]), crop_size=128)
    crop, box = aligned["frames"][0], tuple(aligned["face_box"])
    gray = landmarks.to_gray(crop)
    moved = cv2.warpAffine(gray, np.float32([[1, 0, 0.7], [0, 1, -0.4]]), (128, 128), flags=cv2.INTER_CUBIC,
                           borderMode=cv2.BORDER_REFLECT)
    flow_knobs = stage_params(params, "flow")
    rng = np.random.default_rng(0)
    clip = np.clip(gray[None] + rng.normal(0, 2, (40, 128, 128)), 0, 255).astype(np.uint8)
    magnify_knobs = {k: v for k, v in stage_params(params, "magnify", DATASET).items() if k != "crop_size"}
    interp = clip[:10]
    timings = {
        "tvl1_128_pair_s": median_seconds(lambda: flow.optical_flow(gray, moved, "tvl1", **flow_knobs["tvl1"])),
        "dis_128_pair_s": median_seconds(lambda: flow.optical_flow(gray, moved, "dis", **flow_knobs["dis"])),
        "farneback_128_pair_s": median_seconds(
            lambda: flow.optical_flow(gray, moved, "farneback", **flow_knobs["farneback"])
        ),
        "landmarks_per_frame_s_upscale1": median_seconds(lambda: landmarks.predict_landmarks(crop, box, 1), 30),
        "landmarks_per_frame_s_upscale2": median_seconds(lambda: landmarks.predict_landmarks(crop, box, 2), 30),
        "magnify_40x128x128_clip_s": median_seconds(lambda: magnify.magnify_clip(clip, **magnify_knobs)),
        "lbptop_10x128x128_s": median_seconds(lambda: lbptop.lbp_top(interp, (8, 8), 3, 3, 8)),
        "hsdg_10x128x128_s": median_seconds(lambda: hsdg.hsdg(interp)),
    }
    return {f"{name}_{kind}": value for name, both in timings.items() for kind, value in both.items()}


def generate_standin(params, raw: Path) -> dict:
    from rawdata.synth.micro import generate_standin as generate

    spec = params.standins[DATASET]
    if (raw / "ground_truth.json").is_file():
        return {"reused": str(raw)}
    start = time.perf_counter()
    summary = generate(spec.kind, raw, subjects=int(spec.subjects), seed=int(spec.seed))
    summary["wall_s"] = round(time.perf_counter() - start, 2)
    return summary


def run_pipeline(params, processed: Path, params_file: Path) -> dict:
    """Wall seconds of every stage and of the whole run, the CPU seconds the clips took (from the stage
    summaries), and the wall seconds of a second run in a fresh process."""
    shutil.rmtree(processed, ignore_errors=True)
    per_stage = {}
    start = time.perf_counter()
    for stage in ORDER:
        begin = time.perf_counter()
        report = run_stage(stage, DATASET, params, processed, progress=False)
        per_stage[stage] = {"wall_s": round(time.perf_counter() - begin, 2), "cpu_s": report.get("cpu_seconds", 0.0),
                            "n_done": report["n_done"], "n_skipped": report["n_skipped"]}
    total = time.perf_counter() - start
    cpu = sum(s["cpu_s"] for s in per_stage.values())
    begin = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "experiments.cli", "preprocess", "all", DATASET, "--params", str(params_file),
         "--processed", str(processed), "--no-progress"],
        check=True, cwd=ROOT, capture_output=True,
    )
    second = time.perf_counter() - begin
    jobs = int(params.preprocess.n_jobs)
    return {"stages": per_stage, "first_run_wall_s": round(total, 2), "first_run_clip_cpu_s": round(cpu, 2),
            "first_run_clip_cpu_s_per_worker": round(cpu / jobs, 2), "second_run_wall_s": round(second, 2)}


def truth_by_sample(raw: Path) -> dict[str, dict]:
    return {s["sample_id"]: s for s in json.loads((raw / "ground_truth.json").read_text())["samples"]}


def landmark_errors(processed: Path, truth: dict[str, dict], upscale: int | None = None) -> dict:
    """Stage landmarks (upscale None) or fresh predictions at `upscale` on the stage's crops, against the truth."""
    folder = processed / DATASET
    errors, nme = [], []
    for sample_id, entry in truth.items():
        predicted_path = STAGES["landmarks"].output(folder, sample_id)
        if not predicted_path.is_file():
            continue
        with np.load(STAGES["faces"].output(folder, sample_id)) as clip:
            transform, numbers = clip["transform"], clip["frame_numbers"].tolist()
            if upscale is None:
                predicted = np.load(predicted_path)
            else:
                predicted = landmarks.clip_landmarks(clip["frames"], tuple(clip["face_box"]), upscale)
        true = faces.transform_points(np.asarray(entry["landmarks_moved"]), transform)
        true = true[[entry["frame_numbers"].index(n) for n in numbers]]
        distances = np.linalg.norm(predicted - true, axis=2)
        left, right = true[:, 36:42].mean(axis=1), true[:, 42:48].mean(axis=1)
        errors.append(distances.ravel())
        nme.append(distances.mean() / np.linalg.norm(right - left, axis=1).mean())
    all_errors = np.concatenate(errors)
    return {"n_clips": len(errors), "n_points": int(all_errors.size), "mean_px": float(all_errors.mean()),
            "median_px": float(np.median(all_errors)), "p95_px": float(np.percentile(all_errors, 95)),
            "nme_interocular": float(np.mean(nme))}


def sample_flow(field: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Bilinear samples (N, 2) of a (2, H, W) flow at (N, 2) points (x, y)."""
    xs = points[:, 0].astype(np.float32).reshape(-1, 1)
    ys = points[:, 1].astype(np.float32).reshape(-1, 1)
    return np.stack([cv2.remap(c, xs, ys, cv2.INTER_LINEAR)[:, 0] for c in field], axis=1)


EYES = np.arange(36, 48)


def moving_region(entry: dict, onset: int, apex: int) -> np.ndarray:
    """Landmarks the AUs move by at least half the clip's largest AU displacement at the apex (boolean (68,)).

    Eye landmarks are left out when a blink overlaps onset..apex: lid closure is not the AU's motion, and
    flow cannot follow an occlusion.
    """
    at = entry["frame_numbers"].index(apex)
    shift = np.linalg.norm(np.asarray(entry["landmarks_moved"][at]) - np.asarray(entry["landmarks_neutral"][at]),
                           axis=1)
    if any(b["start"] <= apex and b["end"] >= onset for b in entry["blinks"]):
        shift[EYES] = 0.0
    return shift >= 0.5 * shift.max() if shift.max() > 0 else np.zeros(len(shift), bool)


def flow_errors(processed: Path, truth: dict[str, dict], params) -> dict:
    """Moving-region flow against the true displacement, for the stage's flow and for each method on the crops."""
    folder = processed / DATASET
    index = load_index(folder / "index.csv").set_index("sample_id")
    knobs = stage_params(params, "flow")
    rows: dict[str, list] = {"stage": [], "tvl1": [], "dis": [], "farneback": []}
    for sample_id, entry in truth.items():
        flow_path = STAGES["flow"].output(folder, sample_id)
        if not flow_path.is_file() or not entry["aus"]:
            continue
        with np.load(STAGES["faces"].output(folder, sample_id)) as clip:
            transform, numbers, frames = clip["transform"], clip["frame_numbers"].tolist(), clip["frames"]
        onset, apex = onset_apex_positions(index.loc[sample_id].to_dict(), numbers)
        region = moving_region(entry, numbers[onset], numbers[apex])
        if not region.any():
            continue
        moved = np.asarray(entry["landmarks_moved"])
        at = [entry["frame_numbers"].index(numbers[i]) for i in (onset, apex)]
        start = faces.transform_points(moved[at[0]][region], transform)
        true = faces.transform_points(moved[at[1]][region], transform) - start
        scale = float(np.hypot(*transform[:, 0]))
        amplitude = max(u["amplitude_px"] for u in entry["aus"]) * scale
        with np.load(flow_path) as stored:
            fields = {"stage": stored["flow"]}
        gray = np.stack([landmarks.to_gray(frames[onset]), landmarks.to_gray(frames[apex])])
        for method in ("tvl1", "dis", "farneback"):
            fields[method] = flow.optical_flow(gray[0], gray[1], method, **knobs[method]).transpose(2, 0, 1)
        for name, field in fields.items():
            estimate = sample_flow(field, start)
            rows[name].append((np.linalg.norm(estimate, axis=1).mean(), np.linalg.norm(true, axis=1).mean(),
                               np.linalg.norm(estimate - true, axis=1).mean(), amplitude))
    summary = {}
    for name, values in rows.items():
        table = np.asarray(values)
        summary[name] = {
            "n_clips": len(values),
            "mean_flow_px": float(table[:, 0].mean()),
            "mean_true_px": float(table[:, 1].mean()),
            "flow_over_true": float(table[:, 0].sum() / table[:, 1].sum()),
            "median_clip_flow_over_true": float(np.median(table[:, 0] / table[:, 1])),
            "mean_endpoint_error_px": float(table[:, 2].mean()),
            "mean_au_amplitude_px": float(table[:, 3].mean()),
            "flow_per_au_amplitude": float(table[:, 0].sum() / table[:, 3].sum()),
        }
    return summary


def headline_figures(results: dict) -> dict:
    """The `figures` table `affect bench` collects: name -> value, unit, target (when the issue sets one)."""
    micro, pipeline = results["micro"], results["pipeline"]
    marks, motion = results["landmarks_vs_truth"], results["flow_vs_truth"]["stage"]
    return {
        "tvl1_128_pair": {"value": micro["tvl1_128_pair_s_wall"], "unit": "s", "target": "< 0.3"},
        "tvl1_128_pair_cpu": {"value": micro["tvl1_128_pair_s_cpu"], "unit": "s", "target": "< 0.3",
                              "note": "CPU time: the cost on an idle core"},
        "landmarks_per_frame": {"value": 1000 * micro["landmarks_per_frame_s_upscale2_wall"], "unit": "ms",
                                "target": "< 10"},
        "landmarks_per_frame_cpu": {"value": 1000 * micro["landmarks_per_frame_s_upscale2_cpu"], "unit": "ms",
                                    "target": "< 10", "note": "CPU time: the cost on an idle core"},
        "standin_first_run": {"value": pipeline["first_run_wall_s"], "unit": "s", "target": "< 180",
                              "note": "casme2 stand-in, index..features, 2 workers, wall time on the shared machine"},
        "standin_first_run_cpu_per_worker": {
            "value": pipeline["first_run_clip_cpu_s_per_worker"], "unit": "s", "target": "< 180",
            "note": "CPU seconds of all clips / n_jobs: about the wall time on idle cores (start-up excluded)",
        },
        "standin_second_run": {"value": pipeline["second_run_wall_s"], "unit": "s", "target": "< 15",
                               "note": "`affect preprocess all` again, nothing changed (process start included)"},
        "landmark_error_mean": {"value": marks["mean_px"], "unit": "px (128 crop)"},
        "landmark_nme_interocular": {"value": marks["nme_interocular"], "unit": ""},
        "flow_over_true_motion": {"value": motion["flow_over_true"], "unit": "",
                                  "note": "mean |flow| / mean |true displacement| where the AUs move"},
        "flow_endpoint_error": {"value": motion["mean_endpoint_error_px"], "unit": "px (128 crop)"},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", default=None, help="scratch folder (default: a temporary one, removed after)")
    args = parser.parse_args()
    workdir = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="affect-bench-"))
    params = load_params(ROOT / "params.yaml")
    raw, processed = workdir / "raw" / DATASET, workdir / "processed"
    params = OmegaConf.merge(params, {"datasets": {DATASET: {"root": str(raw)}}})
    params_file = workdir / "params.yaml"
    OmegaConf.save(params, params_file)
    results = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "opencv": cv2.__version__,
                    "load_average_start": os.getloadavg()},
        "micro": micro_benchmarks(params),
        "standin": generate_standin(params, raw),
    }
    results["pipeline"] = run_pipeline(params, processed, params_file)
    truth = truth_by_sample(raw)
    results["landmarks_vs_truth"] = landmark_errors(processed, truth)
    results["landmarks_vs_truth_upscale1"] = landmark_errors(processed, truth, upscale=1)
    results["flow_vs_truth"] = flow_errors(processed, truth, params)
    results["machine"]["load_average_end"] = os.getloadavg()
    results["figures"] = headline_figures(results)
    write_json(RESULTS, results)
    print(json.dumps(results, indent=2, default=str))
    if not args.workdir:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
