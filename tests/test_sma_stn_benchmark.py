"""benchmarks/sma_stn.py: a cache built for a negative control is never read as the real run's, and a control's row
carries the control in its key."""

import json

import numpy as np
import pytest
from benchmark_module import load_benchmark
from omegaconf import OmegaConf


def _bench(dataset="smic"):
    module = load_benchmark("sma_stn")
    module.DATASET = dataset
    return module


def _cache_config(bench, folder, overrides, standin=True):
    """What build_cache writes: the method's config and a clips file (two tiny clips instead of processed data);
    ``standin=None`` writes a clips file of the kind caches had before the stand-in label was recorded."""
    cfg = bench.cache_config("ltr3o", overrides)
    folder.mkdir(parents=True, exist_ok=True)
    OmegaConf.save(cfg, bench.config_file(folder, "ltr3o"), resolve=True)
    label = {} if standin is None else {"standin": np.bool_(standin)}
    np.savez(folder / bench.clips_file(cfg), frames=np.zeros((2, 1, 1, 2, 2), np.float16), y=np.array([0, 1]),
             fold=np.array([0, 1]), **label)


def test_a_control_cache_is_not_taken_for_the_real_one(tmp_path):
    bench = _bench()
    control = ["data.negative_control=permuted_labels"]
    assert not bench.cache_matches("ltr3o", [], tmp_path)  # nothing cached yet
    _cache_config(bench, tmp_path, control)
    assert bench.cache_matches("ltr3o", control, tmp_path)
    assert not bench.cache_matches("ltr3o", [], tmp_path)  # a plain run after a control rebuilds the cache
    _cache_config(bench, tmp_path, [])
    assert bench.cache_matches("ltr3o", [], tmp_path)
    assert not bench.cache_matches("ltr3o", ["data.image_size=64"], tmp_path)


def test_a_cache_without_its_clips_or_their_stand_in_label_is_rebuilt(tmp_path):
    bench = _bench()
    _cache_config(bench, tmp_path, [], standin=None)
    assert not bench.cache_matches("ltr3o", [], tmp_path)  # written before the label: rebuilt, never guessed
    _cache_config(bench, tmp_path, [])
    assert bench.cache_matches("ltr3o", [], tmp_path)
    (tmp_path / bench.clips_file(bench.cache_config("ltr3o", []))).unlink()
    assert not bench.cache_matches("ltr3o", [], tmp_path)  # the config alone is no cache


def test_a_cache_of_another_dataset_or_protocol_does_not_match(tmp_path):
    bench = _bench("smic")
    _cache_config(bench, tmp_path, [])
    bench.PROTOCOL = "subject_kfold"
    assert not bench.cache_matches("ltr3o", [], tmp_path)
    assert not _bench("samm").cache_matches("ltr3o", [], tmp_path)  # its own file name: samm's cache is absent


def test_a_control_row_is_keyed_apart_from_the_real_row():
    bench = _bench("casme2")
    assert bench.result_key("ltr3o", [], "permuted_labels") == "ltr3o/casme2[data.negative_control=permuted_labels]"
    assert bench.result_key("ltr3o", [], "none") == "ltr3o/casme2"
    assert bench.result_key("ltr3o", ["model.calibration=none"]) == "ltr3o/casme2[model.calibration=none]"
    assert _bench("composite").result_key("sma_stn", []) == "sma_stn"


def test_a_control_has_its_own_clips_file():
    """Methods share a clips file when their clip settings agree; a control's permuted labels must not be one."""
    bench = _bench("smic")
    real = bench.load_experiment("ltr3o/smic", ["protocol.name=loso"])
    control = bench.load_experiment("ltr3o/smic", ["protocol.name=loso", "data.negative_control=permuted_labels"])
    assert bench.clips_file(real) != bench.clips_file(control)
    assert bench.clips_file(real) == "clips_loso_onset_offset_12_32_smic.npz"  # the name existing caches carry


def _row(uf1):
    return {"uf1": uf1, "uar": uf1, "margin_over_majority": uf1 - 0.2, "loso_wall_seconds": 100.0,
            "fold_seconds_mean": 6.0, "majority_uf1": 0.2, "protocol": "loso", "folds": 16, "samples": 164,
            "parameters": 10, "flops_per_clip": 20, "settings": {}, "input_shape": [12, 3, 32, 32], "device": "cpu"}


def _results(path, rows):
    path.write_text(json.dumps({"seeds": {key: {"per_seed": per_seed} for key, per_seed in rows.items()}}))
    return path


def test_merge_unites_seeds_of_concurrent_runs_and_refuses_a_conflict(tmp_path):
    bench = _bench()
    into = _results(tmp_path / "into.json", {"ltr3o/smic": {"0": _row(0.3)}})
    a = _results(tmp_path / "a.json", {"ltr3o/smic": {"1": _row(0.5)}, "sma_stn/smic": {"0": _row(0.4)}})
    merged = bench.merge([a], into)
    assert set(merged["seeds"]["ltr3o/smic"]["per_seed"]) == {"0", "1"}
    assert merged["seeds"]["ltr3o/smic"]["uf1"] == {"mean": 0.4, "std": 0.1414}  # recomputed over both seeds
    assert json.loads(into.read_text())["seeds"]["sma_stn/smic"]["uf1"]["mean"] == 0.4
    bench.merge([a], into)  # the same rows again: nothing changes
    clash = _results(tmp_path / "clash.json", {"ltr3o/smic": {"1": _row(0.9)}})
    with pytest.raises(SystemExit, match="clash.json: ltr3o/smic seed 1 differs from the row already read from "
                       ".*into.json"):
        bench.merge([clash], into)
    assert json.loads(into.read_text())["seeds"]["ltr3o/smic"]["per_seed"]["1"]["uf1"] == 0.5  # untouched
    with pytest.raises(SystemExit, match="clash.json: .* already read from .*/a.json"):  # two files of one call
        bench.merge([a, clash], tmp_path / "fresh.json")
    assert not (tmp_path / "fresh.json").exists()


def test_merge_names_a_file_that_is_not_a_seeds_results_file(tmp_path):
    bench = _bench()
    into = _results(tmp_path / "into.json", {"ltr3o/smic": {"0": _row(0.3)}})
    flat = tmp_path / "flat.json"
    flat.write_text(json.dumps({"seeds": {"ltr3o/smic": {"uf1": 0.3}}}))  # a row without per_seed
    with pytest.raises(SystemExit, match="flat.json: seeds/ltr3o/smic has no per_seed rows"):
        bench.merge([flat], into)
    listed = tmp_path / "listed.json"
    listed.write_text("[1, 2]")
    with pytest.raises(SystemExit, match="listed.json: not a results file of benchmarks/sma_stn.py"):
        bench.merge([listed], into)
    with pytest.raises(SystemExit, match="flat.json: seeds/ltr3o/smic has no per_seed rows"):
        bench.merge([into], flat)  # the file merged into is checked the same way


def test_the_seeds_summary_carries_the_stand_in_label_of_its_rows():
    bench = _bench()
    assert bench.seeds_summary({"0": _row(0.3) | {"stand_in": True}, "1": _row(0.4) | {"stand_in": True}})[
        "stand_in"] is True
    assert bench.seeds_summary({"0": _row(0.3), "1": _row(0.4) | {"stand_in": True}})["stand_in"] is None  # unknown
    with pytest.raises(SystemExit, match="stand-in and real-data runs under one key"):
        bench.seeds_summary({"0": _row(0.3) | {"stand_in": True}, "1": _row(0.4) | {"stand_in": False}})
