"""Synthetic occlusions: geometry follows the landmarks, identical across frames, bad input errors."""

import json

import numpy as np
import pytest
from benchmark_module import load_benchmark

from core.errors import AffectError
from preprocessing.occlusion import occlude_clip, occlude_dataset, occlusion_mask


def _face(shift=(0.0, 0.0), scale=1.0):
    """A crude frontal 68-point face centred at (64, 64) in a 128 px crop (iBUG indices where they matter)."""
    p = np.zeros((68, 2))
    t = np.linspace(-1, 1, 17)
    p[:17] = np.stack([64 + 40 * t, 64 + 10 + 40 * np.sqrt(1 - np.clip(t, -1, 1) ** 2) * 0.9], 1)  # jaw 0..16
    p[:17, 1] = np.where(np.arange(17) < 3, 40 + 10 * np.arange(17), p[:17, 1])
    p[0:17, 1] = 40 + 60 * np.sin(np.linspace(0, np.pi, 17))  # jaw from temple (y 40) via chin (y 100)
    p[17:27] = np.stack([np.linspace(30, 98, 10), np.full(10, 30.0)], 1)  # brows
    p[27:31] = np.stack([np.full(4, 64.0), np.linspace(38, 62, 4)], 1)  # nose bridge
    p[31:36] = np.stack([np.linspace(56, 72, 5), np.full(5, 66.0)], 1)
    p[36:42] = np.stack([44 + 6 * np.cos(np.linspace(0, 6, 6)), 40 + 2 * np.sin(np.linspace(0, 6, 6))], 1)
    p[42:48] = np.stack([84 + 6 * np.cos(np.linspace(0, 6, 6)), 40 + 2 * np.sin(np.linspace(0, 6, 6))], 1)
    p[48:68] = np.stack([64 + 12 * np.cos(np.linspace(0, 6.2, 20)), 82 + 4 * np.sin(np.linspace(0, 6.2, 20))], 1)
    return (p - 64) * scale + 64 + np.asarray(shift)


def test_mask_covers_mouth_not_eyes_and_moves_with_landmarks():
    p = _face()
    cover = occlusion_mask(p, (128, 128), "mask")
    assert cover[82, 64] == 1 and cover[40, 44] == 0 and cover[40, 84] == 0
    moved = occlusion_mask(_face(shift=(10, 6)), (128, 128), "mask")
    assert np.array_equal(np.roll(np.roll(cover, 6, 0), 10, 1)[20:110, 20:118], moved[20:110, 20:118])


def test_glasses_cover_eyes_not_mouth():
    cover = occlusion_mask(_face(), (128, 128), "glasses")
    assert cover[40, 44] == 1 and cover[40, 84] == 1 and cover[82, 64] == 0


def test_block_area_follows_ratio_and_seed():
    p = _face()
    box = (p[:27].max(0) - p[:27].min(0)).prod()
    for ratio in (0.1, 0.3):
        area = occlusion_mask(p, (128, 128), "block", "s1", ratio=ratio).sum()
        assert abs(area / box - ratio) < 0.05
    a = occlusion_mask(p, (128, 128), "block", "s1", ratio=0.2)
    assert np.array_equal(a, occlusion_mask(p, (128, 128), "block", "s1", ratio=0.2))
    assert not np.array_equal(a, occlusion_mask(p, (128, 128), "block", "s1", ratio=0.2, seed=5))


@pytest.mark.parametrize("kind", ["block", "glasses", "mask"])
def test_occluder_identical_across_frames(kind):
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, (5, 128, 128, 3), dtype=np.uint8)
    jitter = np.stack([_face(shift=rng.normal(0, 1.5, 2)) for _ in range(5)])
    out = occlude_clip(frames, jitter, kind, "clip")
    changed = out != frames
    covered = np.abs(out.astype(int) - frames.astype(int)).sum(-1) > 0
    assert changed.any()
    fill = out[0][covered[0]]
    # every frame is occluded at the same pixels with the same value
    for t in range(1, 5):
        assert np.array_equal(out[t][covered[0]], fill)


def test_bad_input_errors(tmp_path):
    frames = np.zeros((3, 64, 64), np.uint8)
    with pytest.raises(AffectError, match="unknown occlusion kind"):
        occlude_clip(frames, np.stack([_face()] * 3), "scarf")
    with pytest.raises(AffectError, match="landmarks"):
        occlude_clip(frames, np.zeros((2, 68, 2)), "mask")
    with pytest.raises(AffectError, match="uint8"):
        occlude_clip(frames.astype(float), np.stack([_face()] * 3), "mask")
    with pytest.raises(AffectError, match="ratio"):
        occlusion_mask(_face(), (128, 128), "block", ratio=1.5)
    with pytest.raises(AffectError, match="landmarks"):
        occlude_dataset(tmp_path / "src", tmp_path / "dst", "mask")


def test_occlude_dataset_copy(tmp_path):
    src = tmp_path / "d"
    (src / "faces").mkdir(parents=True)
    (src / "landmarks").mkdir()
    (src / "index.csv").write_text("sample_id\nc1\n")
    frames = np.full((4, 128, 128, 3), 100, np.uint8)
    np.savez(src / "faces" / "c1.npz", frames=frames, frame_numbers=np.arange(4))
    np.save(src / "landmarks" / "c1.npy", np.stack([_face()] * 4))
    with pytest.raises(AffectError, match="needs the params"):
        occlude_dataset(src, tmp_path / "d-occ-mask", "mask")  # re-detection (the default) needs the knobs
    with pytest.raises(AffectError, match="landmark mode"):
        occlude_dataset(src, tmp_path / "d-occ-mask", "mask", landmarks="clean")
    summary = occlude_dataset(src, tmp_path / "d-occ-mask", "mask", landmarks="copy")
    assert summary["n_done"] == 1 and summary["landmarks"] == "copy"
    out = np.load(tmp_path / "d-occ-mask" / "faces" / "c1.npz")
    assert out["frames"][0, 82, 64, 0] == 200 and out["frames"][0, 40, 44, 0] == 100
    assert np.array_equal(out["frame_numbers"], np.arange(4))
    copied = np.load(tmp_path / "d-occ-mask" / "landmarks" / "c1.npy")
    assert np.array_equal(copied, np.load(src / "landmarks" / "c1.npy"))


@pytest.mark.parametrize("kind", ["mask", "glasses"])
def test_redetected_landmarks_move_where_the_occluder_is(face_clip, kind):
    """Landmarks re-detected on the occluded frames leave the clean ones mostly under the occluder; the copy mode
    keeps the clean ones; each copy says which it holds."""
    from preprocessing.derived_copy import landmark_mode
    from preprocessing.stages import run_stage

    root, params = face_clip
    clean = np.load(root / "d" / "landmarks" / "c1.npy")
    again = run_stage("landmarks", "d", params, root, jobs=1, progress=False)
    assert again["n_resumed"] == 1 and np.array_equal(np.load(root / "d" / "landmarks" / "c1.npy"), clean)
    summary = occlude_dataset(root / "d", root / f"d-{kind}", kind, landmarks="detect", params=params, jobs=1)
    assert summary["landmarks"] == "detect" and summary["landmarks_stage"]["n_done"] == 1
    assert landmark_mode(root / "d", root / f"d-{kind}") == "redetected"
    found = np.load(root / f"d-{kind}" / "landmarks" / "c1.npy")
    assert found.shape == clean.shape
    x, y = np.clip(np.rint(clean[0]).astype(int), 0, 127).T
    under = occlusion_mask(clean[0], (128, 128), kind, "c1")[y, x] > 0.5
    moved = np.linalg.norm(found - clean, axis=2).mean(axis=0)
    assert 5 <= under.sum() <= 60
    assert moved[under].mean() > 3.0 and moved[under].mean() > 1.5 * moved[~under].mean()
    occlude_dataset(root / "d", root / f"d-{kind}", kind, landmarks="copy")  # the same copy, switched to copied
    assert landmark_mode(root / "d", root / f"d-{kind}") == "copied"
    assert np.array_equal(np.load(root / f"d-{kind}" / "landmarks" / "c1.npy"), clean)


def _benchmark(monkeypatch):
    return load_benchmark("occlusion", monkeypatch)  # it imports its sibling timed_runs


def test_benchmark_scores_a_stopped_run_on_its_finished_folds(tmp_path, monkeypatch):
    import pandas as pd

    from core import metrics as M

    bench = _benchmark(monkeypatch)
    folds = tmp_path / "folds"
    (folds / "valid").mkdir(parents=True)  # validation tables live one level down and are not test folds
    a = pd.DataFrame({"fold": "subject=a", "y_true": [0, 1, 2], "y_pred": [0, 1, 1]})
    b = pd.DataFrame({"fold": "subject=b", "y_true": [2, 2], "y_pred": [2, 0]})
    a.to_csv(folds / "000.csv", index=False)
    b.to_csv(folds / "001.csv", index=False)
    pd.DataFrame({"fold": "x", "y_true": [0], "y_pred": [1]}).to_csv(folds / "valid" / "000.csv", index=False)
    row = bench.partial_scores(folds, "rrrn")
    pooled = pd.concat([a, b])
    assert row["complete"] is False and row["folds_done"] == 2 and row["n_samples"] == 5
    assert row["partial_uf1"] == round(M.uf1(pooled["y_true"], pooled["y_pred"], 3), 4)
    assert row["folds"] == ["subject=a", "subject=b"]
    other = pd.concat([a.assign(y_pred=[0, 1, 2]), b, pd.DataFrame({"fold": "subject=c", "y_true": [1],
                                                                       "y_pred": [0]})])
    other.to_csv(tmp_path / "predictions.csv", index=False)
    table = {"clean": {"preprocess_seconds": {"casme2/flow": 1.0}, "rrrn": row,
                       "lbptop_svm": {"complete": True, "predictions": str(tmp_path / "predictions.csv")},
                       "ststnet": {"complete": False, "predictions": str(tmp_path / "predictions.csv")}}}
    same = bench.same_folds(table, "clean", "rrrn", ["n", "p", "s"])
    kept = other[other["fold"] != "subject=c"]
    assert same == {"lbptop_svm": round(M.uf1(kept["y_true"], kept["y_pred"], 3), 4)}
    assert bench.partial_scores(tmp_path / "absent", "rrrn") == {"complete": False, "folds_done": 0}


def test_resumed_row_adds_the_seconds_of_its_stopped_calls(monkeypatch):
    bench = _benchmark(monkeypatch)
    first = {"complete": False, "folds_done": 2, "cpu_seconds": 100.0, "wall_seconds": 110.0}
    second = bench.add_earlier_parts({"complete": False, "folds_done": 5, "cpu_seconds": 50.5, "wall_seconds": 52.0},
                                     first)
    assert second["cpu_seconds_parts"] == [100.0, 50.5] and second["cpu_seconds"] == 150.5
    last = bench.add_earlier_parts({"complete": True, "cpu_seconds": 20.0, "wall_seconds": 21.0}, second)
    assert last["cpu_seconds_parts"] == [100.0, 50.5, 20.0] and last["cpu_seconds"] == 170.5
    assert last["wall_seconds_parts"] == [110.0, 52.0, 21.0] and last["wall_seconds"] == 183.0
    for earlier in (None, {"complete": True, "cpu_seconds": 9.0, "wall_seconds": 9.0},
                    {"complete": False, "error": "boom", "cpu_seconds": 9.0, "wall_seconds": 9.0}):
        row = {"complete": True, "cpu_seconds": 20.0, "wall_seconds": 21.0}
        assert bench.add_earlier_parts(row, earlier) == {"complete": True, "cpu_seconds": 20.0, "wall_seconds": 21.0}


def test_benchmark_plan_is_cheapest_method_first_and_merges(monkeypatch):
    import datetime as dt

    bench = _benchmark(monkeypatch)
    plan = bench.default_plan()
    assert plan[:5] == ["clean/lbptop_svm", "mask/lbptop_svm", "glasses/lbptop_svm", "block/lbptop_svm",
                        "clean/lbp_sdg"]
    assert sorted(plan) == sorted(f"{c}/{m}" for c in bench.CONDITIONS for m in bench.METHODS)
    table = {"clean": {"ststnet": {"uf1": 0.6}, "rrrn": {"complete": False, "folds_done": 3}},
             "mask": {"rrrn": {"complete": False, "error": "boom"}}}
    assert bench.done(table, "clean/ststnet")  # a row of an earlier version (no `complete`) is kept
    assert not bench.done(table, "clean/rrrn") and not bench.done(table, "mask/rrrn")
    assert not bench.done(table, "block/rrrn")
    moment = dt.datetime(2030, 1, 2, 3, 4, tzinfo=dt.UTC)
    assert bench.parse_deadline("2030-01-02T03:04") == moment.timestamp()
    assert bench.parse_deadline(None) is None
    missing = bench.missing(table)
    assert "clean/ststnet" not in missing and "clean/rrrn (partial: 3 folds)" in missing and "mask/rrrn" in missing
    assert len(missing) == len(bench.CONDITIONS) * len(bench.METHODS) - 1


def test_lowres_study_builds_restored_roots_with_the_same_harness(tmp_path, monkeypatch):
    """`--study lowres`: conditions x<factor>-<sr method>, each root a degraded-and-restored copy of every dataset
    (preprocessing/low_resolution.py), then the methods' stages; an occlusion condition still occludes."""
    import preprocessing.low_resolution
    import preprocessing.occlusion
    import preprocessing.stages

    bench = _benchmark(monkeypatch)
    conditions, out = bench.STUDIES["lowres"]
    assert conditions[0] == "clean" and len(conditions) == 1 + len(bench.LOWRES_FACTORS) * len(bench.LOWRES_SR)
    assert out.name == "low_resolution_methods.json" and bench.STUDIES["occlusion"][1] == bench.RESULTS
    assert bench.parse_lowres("x4-espcn") == (4, "espcn") and bench.parse_lowres("mask") is None
    assert bench.parse_lowres("clean") is None
    assert bench.default_plan(("ststnet",), conditions)[:2] == ["clean/ststnet", "x2-bicubic/ststnet"]
    assert len(bench.missing({}, conditions)) == len(conditions) * len(bench.METHODS)
    calls = []
    monkeypatch.setattr(preprocessing.low_resolution, "degrade_dataset",
                        lambda src, dst, factor, sr, **kw: calls.append(("degrade", dst.name, factor, sr)))
    monkeypatch.setattr(preprocessing.occlusion, "occlude_dataset",
                        lambda src, dst, kind, **kw: calls.append(("occlude", dst.name, kind)))
    monkeypatch.setattr(preprocessing.stages, "run_stage", lambda stage, name, *a, **kw: {"seconds": 0.0})
    seconds = bench.build_root(tmp_path / "src", tmp_path / "x8-srcnn", "x8-srcnn", params=None)
    assert calls == [("degrade", d, 8, "srcnn") for d in bench.DATASETS]
    assert set(seconds) >= {f"{d}/{s}" for d in bench.DATASETS for s in bench.method_stages()}
    calls.clear()
    bench.build_root(tmp_path / "src", tmp_path / "mask", "mask", params=None)
    assert calls == [("occlude", d, "mask") for d in bench.DATASETS]


def test_benchmark_keeps_copied_landmark_rows_apart(monkeypatch):
    """Rows of an earlier version (copied landmarks, no `landmarks` field) move to their own labelled table; the
    re-detected table reuses only complete clean rows of the same data, saying so."""
    bench = _benchmark(monkeypatch)
    old = {"holdout_database": {"clean": {"preprocess_seconds": "none", "rrrn": {"uf1": 0.4, "complete": True,
                                                                                "data_identity": "x"},
                                          "ststnet": {"complete": False, "folds_done": 1, "data_identity": "x"}},
                                "mask": {"rrrn": {"uf1": 0.45, "complete": True, "data_identity": "x"}}},
           "not_run": {"holdout_database": ["block/rrrn"]}}
    results = bench.label_legacy(old)
    assert "holdout_database" not in results and results["not_run"] == {"holdout_database_copied_landmarks":
                                                                        ["block/rrrn"]}
    copied = results["holdout_database_copied_landmarks"]
    assert copied["mask"]["rrrn"]["landmarks"] == "copied" and copied["clean"]["rrrn"]["landmarks"] == "clean"
    assert bench.label_legacy(results) == results  # labelled tables stay where they are
    assert bench.table_key("lodo") == "holdout_database"
    assert bench.table_key("lodo", "copy") == "holdout_database_copied_landmarks"
    table = {}
    assert bench.reuse_clean(table, copied, "rrrn", "x") and table["clean"]["rrrn"]["uf1"] == 0.4
    assert "landmark mode" in table["clean"]["rrrn"]["reused_from"]
    assert not bench.reuse_clean(table, copied, "ststnet", "x")  # partial
    assert not bench.reuse_clean({}, copied, "rrrn", "other data")
    results["holdout_database"] = {"mask": {"rrrn": {"uf1": 0.3}}}  # unlabelled rows next to a copied table
    with pytest.raises(ValueError, match="cannot move"):
        bench.label_legacy(results)


def test_benchmark_covers_every_composite_method_with_the_stages_it_reads(monkeypatch):
    """Every `<name>/composite` experiment is a benchmarked method or an excluded variant, and each method's
    stages hold every stage its MethodSpec inputs come from (features read magnify: preprocess.features.source)."""
    from datamodules.micro_expression import INPUT_STAGES
    from experiments import registry

    bench = _benchmark(monkeypatch)
    composite = {e.split("/")[0] for e in registry.experiment_ids() if e.endswith("/composite")}
    assert composite == set(bench.METHODS) | set(bench.EXCLUDED)
    assert not set(bench.METHODS) & set(bench.EXCLUDED)
    from experiments.config import load_experiment

    for method, stages in bench.METHODS.items():
        spec = registry.method(method)
        assert spec.task == "mer"
        frames_from = load_experiment(f"{method}/composite").data.frames_from  # frame inputs may read magnify
        needed = {frames_from if key in ("frames", "apex", "onset") else INPUT_STAGES[key]
                  for key in spec.inputs} - {"faces"}
        needed |= {"magnify"} if "features" in needed else set()
        assert needed <= set(stages), method
        assert ("landmarks" in stages) == bench.method_table()["benchmarked_methods"][method]["reads_landmarks"]



def _result(path, cells, seed=1, identity="d1", table="holdout_database"):
    rows = {c: {m: {"uf1": u, "uar": u, "complete": True, "data_identity": identity, "overrides": [f"seed={seed}"]}
                for m, u in ms.items()} for c, ms in cells.items()}
    path.write_text(json.dumps({table: rows, "stand_in": True}))
    return path


def test_merge_folds_one_seeds_files_together_and_refuses_mixing(tmp_path, monkeypatch):
    bench = _benchmark(monkeypatch)
    into = _result(tmp_path / "seed1.json", {"clean": {"rrrn": 0.4}, "mask": {"rrrn": 0.41}})
    other = _result(tmp_path / "other.json", {"mask": {"ststnet": 0.5}, "block": {"ststnet": 0.52}})
    merged = bench.merge([other], into)
    assert merged["holdout_database"]["mask"] == json.loads(into.read_text())["holdout_database"]["mask"]
    assert set(merged["holdout_database"]["mask"]) == {"rrrn", "ststnet"}
    assert "mask/ststnet" not in merged["not_run"]["holdout_database"]
    assert "glasses/ststnet" in merged["not_run"]["holdout_database"]
    bench.merge([other], into)  # the same rows again: nothing changes
    clash = _result(tmp_path / "clash.json", {"mask": {"ststnet": 0.9}})
    with pytest.raises(SystemExit, match="clash.json: holdout_database/mask/ststnet differs from the row already "
                       "read from .*seed1.json"):
        bench.merge([clash], into)
    with pytest.raises(SystemExit, match="clash.json: .* already read from .*other.json"):  # two files of one call
        bench.merge([other, clash], tmp_path / "fresh.json")
    assert not (tmp_path / "fresh.json").exists()
    seed2 = _result(tmp_path / "seed2.json", {"glasses": {"rrrn": 0.4}}, seed=2)
    with pytest.raises(SystemExit, match="seed2.json: .* mixes seeds"):
        bench.merge([seed2], into)
    elsewhere = _result(tmp_path / "elsewhere.json", {"glasses": {"rrrn": 0.4}}, identity="d2")
    with pytest.raises(SystemExit, match="elsewhere.json: .* mixes data identities"):
        bench.merge([elsewhere], into)
    legacy = _result(tmp_path / "legacy.json", {"glasses": {"lbptop_svm": 0.6}}, identity=None)
    both = bench.merge([legacy], tmp_path / "with_legacy.json")  # a row without an identity blocks nothing...
    assert bench.merge([other], tmp_path / "with_legacy.json")["holdout_database"]["mask"]["ststnet"]["uf1"] == 0.5
    assert both["holdout_database"]["glasses"]["lbptop_svm"]["data_identity"] is None
    with pytest.raises(SystemExit, match="elsewhere.json: .* mixes data identities"):  # ...nor lets two others mix
        bench.merge([elsewhere], tmp_path / "with_legacy.json")
    (tmp_path / "list.json").write_text("[]")
    with pytest.raises(SystemExit, match="list.json: not a results file"):
        bench.merge([tmp_path / "list.json"], into)
    assert set(json.loads(into.read_text())["holdout_database"]["mask"]) == {"rrrn", "ststnet"}  # untouched


def test_not_run_reason_is_recorded_refused_when_pointless_and_dropped_once_the_rows_run(tmp_path, monkeypatch):
    bench = _benchmark(monkeypatch)
    out = _result(tmp_path / "occlusion.json", {"clean": {"rrrn": 0.45}}, seed=0, table="conditions")
    results = bench.set_not_run_reason(out, "conditions", "mpt", "  too costly for what it shows  ")
    assert results["not_run_reasons"] == {"conditions": {"mpt": "too costly for what it shows"}}
    assert "clean/mpt" in results["not_run"]["conditions"]
    assert json.loads(out.read_text())["not_run_reasons"]["conditions"]["mpt"] == "too costly for what it shows"
    with pytest.raises(SystemExit, match="unknown method 'vit'"):
        bench.set_not_run_reason(out, "conditions", "vit", "why")
    with pytest.raises(SystemExit, match="the reason is empty"):
        bench.set_not_run_reason(out, "conditions", "rrrn", " ")
    every = {c: {"rrrn": 0.45} for c in bench.CONDITIONS}
    full = _result(tmp_path / "full.json", every, seed=0, table="conditions")
    with pytest.raises(SystemExit, match="full.json: conditions holds every row of rrrn"):
        bench.set_not_run_reason(full, "conditions", "rrrn", "why")
    bench.set_not_run_reason(out, "conditions", "rrrn", "three rows left")  # clean is in, three are not
    rows = _result(tmp_path / "rows.json", {c: {"rrrn": 0.45} for c in ("mask", "glasses", "block")}, seed=0,
                   table="conditions")
    merged = bench.merge([rows], out)  # RRRN's rows are now all in: its reason goes, MPT's stays
    assert merged["not_run_reasons"] == {"conditions": {"mpt": "too costly for what it shows"}}
