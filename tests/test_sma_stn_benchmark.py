"""benchmarks/sma_stn.py: a cache built for a negative control is never read as the real run's, and a control's row
carries the control in its key."""

import importlib.util
from pathlib import Path

from omegaconf import OmegaConf

ROOT = Path(__file__).resolve().parents[1]


def _bench(dataset="smic"):
    spec = importlib.util.spec_from_file_location("sma_stn_benchmark", ROOT / "benchmarks" / "sma_stn.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.DATASET = dataset
    return module


def _cache_config(bench, folder, overrides):
    """What build_cache writes as the method's config, without the clips (no processed data needed)."""
    cfg = bench.load_experiment(f"ltr3o/{bench.DATASET}", [f"protocol.name={bench.PROTOCOL}", *overrides])
    folder.mkdir(parents=True, exist_ok=True)
    OmegaConf.save(cfg, bench.config_file(folder, "ltr3o"), resolve=True)


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


def test_a_cache_of_another_dataset_or_protocol_does_not_match(tmp_path):
    bench = _bench("smic")
    _cache_config(bench, tmp_path, [])
    bench.PROTOCOL = "subject_kfold"
    assert not bench.cache_matches("ltr3o", [], tmp_path)
    assert not _bench("samm").cache_matches("ltr3o", [], tmp_path)  # its own file name: samm's cache is absent


def test_a_control_row_is_keyed_apart_from_the_real_row():
    bench = _bench("casme2")
    assert bench.result_key("ltr3o", [], ["data.negative_control=permuted_labels"]) == \
        "ltr3o/casme2[data.negative_control=permuted_labels]"
    assert bench.result_key("ltr3o", [], ["data.negative_control=none", "data.image_size=64"]) == "ltr3o/casme2"
    assert bench.result_key("ltr3o", ["model.calibration=none"], []) == "ltr3o/casme2[model.calibration=none]"
    assert _bench("composite").result_key("sma_stn", [], []) == "sma_stn"


def test_a_control_has_its_own_clips_file():
    """Methods share a clips file when their clip settings agree; a control's permuted labels must not be one."""
    bench = _bench("smic")
    real = bench.load_experiment("ltr3o/smic", ["protocol.name=loso"])
    control = bench.load_experiment("ltr3o/smic", ["protocol.name=loso", "data.negative_control=permuted_labels"])
    assert bench.clips_file(real) != bench.clips_file(control)
    assert bench.clips_file(real) == "clips_loso_onset_offset_12_32_smic.npz"  # the name existing caches carry
