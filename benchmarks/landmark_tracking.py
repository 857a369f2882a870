"""Landmark stage against the stand-in's truth: per-frame dlib detection vs dlib + Lucas-Kanade tracking.

Landmark methods read motion, so the stage is judged on what they read: the onset -> apex DISPLACEMENT of each
landmark, against the generator's true displacement (ground_truth.json `landmarks_moved`, mapped into the crop
with each clip's stored transform), over the landmarks the AUs move by at least 0.1 px (eye points left out when
a blink overlaps onset..apex). Also the absolute position error over every frame, and the seconds per clip.
This is a measurement of a preprocessing stage against ground truth, not of any method's score: it is what chose
`preprocess.landmarks.method` (no test fold of any method was looked at).

Usage: ``python benchmarks/landmark_tracking.py --processed DIR --raw DIR [--limit N]`` (a processed stand-in and
its raw folder); writes benchmarks/results/landmark_tracking.json.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from core import process
from preprocessing import faces, landmarks
from rawdata.index import load_index

RESULTS = Path(__file__).parent / "results" / "landmark_tracking.json"
EYES = list(range(36, 48))


def evaluate(processed: Path, raw: Path, limit: int | None, window: int) -> dict:
    truth = {s["sample_id"]: s for s in json.loads((raw / "ground_truth.json").read_text())["samples"]}
    index = load_index(processed / "index.csv")
    rows = list(index.itertuples(index=False))[:limit]
    errors = {"detect": {"position": [], "displacement": []}, "track": {"position": [], "displacement": []}}
    seconds = {"detect": 0.0, "track": 0.0}
    true_shift = []
    for row in rows:
        with np.load(processed / "faces" / f"{row.sample_id}.npz") as clip:
            frames, box, transform = clip["frames"], tuple(clip["face_box"]), clip["transform"]
            numbers = clip["frame_numbers"].tolist()
        entry = truth[row.sample_id]
        keep = [entry["frame_numbers"].index(n) for n in numbers]
        true = faces.transform_points(np.asarray(entry["landmarks_moved"], dtype=np.float64)[keep], transform)
        onset, apex = numbers.index(min(numbers, key=lambda n: abs(n - row.onset))), \
            numbers.index(min(numbers, key=lambda n: abs(n - row.apex)))
        shift = true[apex] - true[onset]
        moved = np.linalg.norm(shift, axis=1) >= 0.1
        if any(b["start"] <= row.apex and b["end"] >= row.onset for b in entry.get("blinks", [])):
            moved[EYES] = False
        true_shift += np.linalg.norm(shift[moved], axis=1).tolist()
        for method in ("detect", "track"):
            started = time.process_time()
            if method == "detect":
                points = landmarks.clip_landmarks(frames, box, upscale=2)
            else:
                points = landmarks.track_landmarks(frames, box, upscale=2, window=window)
            seconds[method] += time.process_time() - started
            errors[method]["position"] += np.linalg.norm(points - true, axis=2).ravel().tolist()
            estimate = points[apex] - points[onset]
            errors[method]["displacement"] += np.linalg.norm(estimate[moved] - shift[moved], axis=1).tolist()
    out = {"clips": len(rows), "window": window, "moved_landmarks": len(true_shift),
           "true_displacement_px": {"mean": float(np.mean(true_shift)), "median": float(np.median(true_shift))}}
    for method, values in errors.items():
        out[method] = {kind: {"mean": float(np.mean(v)), "median": float(np.median(v)),
                              "p95": float(np.percentile(v, 95))} for kind, v in values.items()}
        out[method]["cpu_seconds_per_clip"] = seconds[method] / max(len(rows), 1)
    return out


def main(argv=None) -> int:
    process.configure()
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--processed", type=Path, required=True, help="data/processed/<dataset> of a stand-in")
    parser.add_argument("--raw", type=Path, required=True, help="its raw folder (with ground_truth.json)")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--window", type=int, default=15)
    args = parser.parse_args(argv)
    result = evaluate(args.processed, args.raw, args.limit, args.window)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
