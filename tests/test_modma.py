"""MODMA layout: the stand-in round-trips through the real parser and the EEG reader; bad files name the file and
what was expected; `affect data check modma` and `affect synth modma` work from the CLI."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import scipy.io
from benchmark_module import load_benchmark
from omegaconf import OmegaConf

from core.errors import ConfigError, DatasetError
from datamodules.eeg import read_modma
from experiments.cli import main
from rawdata.layouts import modma as layout
from rawdata.layouts import parse
from rawdata.synth import generate

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def original(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("modma") / "modma"
    generate("modma", out, subjects=4, seed=3, seconds=8)
    return out


@pytest.fixture
def copy(original, tmp_path) -> Path:
    return Path(shutil.copytree(original, tmp_path / "modma"))


def recordings(root: Path) -> list[Path]:
    return sorted((root / layout.FOLDER).glob("*.mat"))


def errors(root: Path) -> list[str]:
    return [str(p) for p in parse("modma", root).errors]


def test_standin_parses_clean_with_subject_labels(original):
    result = parse("modma", original)
    assert result.problems == [] and result.usable
    index = result.index
    assert len(index) == 4 and index["subject"].str.len().eq(8).all()
    assert dict(zip(index["subject"], index["emotion"], strict=True)) == {
        "02010001": "MDD", "02010002": "MDD", "02020001": "HC", "02020002": "HC"}
    assert set(index["samples"]) == {8 * layout.RATE} and set(index["label"]) == {0, 1}
    truth = json.loads((original / "ground_truth.json").read_text())
    assert truth["subjects"]["02010001"]["type"] == "MDD" and "abnormal_sites" in truth["subjects"]["02010001"]
    assert "abnormal_sites" not in truth["subjects"]["02020001"]


def test_recording_is_referenced_to_cz_and_the_reader_cuts_windows(original):
    row = parse("modma", original).index.iloc[0]
    signal = layout.load_recording(row.file, row.variable)
    assert signal.shape == (129, 8 * layout.RATE) and np.all(signal[layout.CHANNELS.index("Cz")] == 0)
    cfg = OmegaConf.create({"data": {"channels": "ten_twenty", "window_s": 2, "max_windows": 3}})
    trials, arrays, channels, samples = read_modma(original, cfg)
    assert channels == tuple(layout.TEN_TWENTY) and len(samples) == 500
    x = arrays[trials["sample_id"].iloc[0]]
    assert x.shape == (3, 19, 500) and np.allclose(x.mean(-1), 0, atol=1e-3)  # demeaned windows
    assert np.allclose(x.sum(1), 0, atol=1e-2)  # average reference over the 19 read channels
    all_cfg = OmegaConf.create({"data": {"channels": "all", "window_s": 4}})
    assert next(iter(read_modma(original, all_cfg)[1].values())).shape == (2, 128, 1000)


def test_scale_knob_gives_unit_std_per_window_or_per_recording(original):
    base = {"channels": "ten_twenty", "window_s": 2, "max_windows": 3}
    raw = read_modma(original, OmegaConf.create({"data": base}))[1]
    window = read_modma(original, OmegaConf.create({"data": {**base, "scale": "window"}}))[1]
    record = read_modma(original, OmegaConf.create({"data": {**base, "scale": "recording"}}))[1]
    for key, x in raw.items():
        assert np.allclose(window[key].std(-1), 1, atol=1e-3)  # every window's channel at unit std
        assert np.allclose(record[key].std(axis=(0, 2)), 1, atol=1e-3)  # each channel over its recording
        assert not np.allclose(record[key].std(-1), 1, atol=1e-2)  # windows keep their relative power
        spread = x.std(axis=(0, 2), keepdims=True)  # one factor per channel, the same in every window
        assert np.allclose(record[key] * spread, x, atol=1e-3 * float(x.std()))
    with pytest.raises(ConfigError, match="data.scale"):
        read_modma(original, OmegaConf.create({"data": {**base, "scale": "per_cell"}}))


def test_missing_sheet_and_unknown_subject_name_the_file(copy):
    sheet = copy / layout.FOLDER / layout.SHEET
    sheet.unlink()
    assert any(layout.SHEET in e and "subject id" in e for e in errors(copy))
    generate("modma", copy, subjects=4, seed=3, seconds=8)  # a stand-in folder is replaced
    extra = copy / layout.FOLDER / "02099999rest 20150101 1000.mat"
    shutil.copy(recordings(copy)[0], extra)
    assert any(extra.name in e and "02099999" in e and "not in" in e for e in errors(copy))


def test_wrong_shape_and_transposed_recordings_name_file_and_shape(copy):
    path = recordings(copy)[0]
    scipy.io.savemat(str(path), {"data": np.zeros((64, 500), np.float32)})
    assert any(path.name in e and "(129 channels, samples)" in e for e in errors(copy))
    scipy.io.savemat(str(path), {"data": np.zeros((500, 129), np.float32)})
    assert any(path.name in e and "transposed" in e for e in errors(copy))
    scipy.io.savemat(str(path), {"a": np.zeros((129, 500)), "b": np.zeros((129, 500))})
    assert any(path.name in e and "several" in e for e in errors(copy))


def test_bad_type_in_the_sheet_names_the_row(copy):
    import pandas as pd

    sheet = copy / layout.FOLDER / layout.SHEET
    frame = pd.read_excel(sheet)
    frame.loc[1, "type"] = "maybe"
    frame.to_excel(sheet, index=False)
    assert any(layout.SHEET in e and "row 3" in e and "MDD or HC" in e for e in errors(copy))


def test_nan_values_are_an_error_naming_file_and_variable(copy):
    row = parse("modma", copy).index.iloc[0]
    data = scipy.io.loadmat(row.file)
    data[row.variable][3, 10] = np.nan
    scipy.io.savemat(row.file, {row.variable: data[row.variable]})
    with pytest.raises(DatasetError, match=row.variable) as caught:
        layout.load_recording(row.file, row.variable)
    assert Path(row.file).name in str(caught.value)


def test_cli_check_and_synth(copy, tmp_path):
    assert main(["data", "check", "modma", "--root", str(copy)]) == 0
    scipy.io.savemat(str(recordings(copy)[0]), {"data": np.zeros((10, 10))})
    assert main(["data", "check", "modma", "--root", str(copy)]) == 1
    out = tmp_path / "cli"
    assert main(["synth", "modma", "--out", str(out), "--subjects", "2", "--set", "seconds=2"]) == 0
    assert len(parse("modma", out).index) == 2


def _probe_module():
    return load_benchmark("modma_probe")


def test_the_version_2_rule_needs_band_power_and_coupling_and_the_generator_uses_its_choice(tmp_path):
    """Rule 1 takes the first scale where ANY probe clears the target, rule 2 the first where band power AND the
    better coupling probe both do; the generator's defaults are what the recorded sweep gives under its version's
    rule, and re-choosing keeps the earlier rule's choice in the file's history."""
    probe = _probe_module()
    rows = [{"options": {"common_scale": s}, "mean": {"band_power": b, "theta_f3_p4": c, "theta_all_pairs": c - 0.1}}
            for s, b, c in ((0.35, 0.58, 0.97), (0.5, 0.72, 1.0), (0.7, 0.81, 1.0), (1.0, 0.93, 0.79))]
    assert probe.choose(rows, 1)[0]["options"]["common_scale"] == 0.35
    assert probe.choose(rows, 2)[0]["options"]["common_scale"] == 0.7
    assert probe.choose(rows[:2], 2) == (rows[1], False)  # never reached: the largest, flagged
    with pytest.raises(ValueError, match="rule 3"):
        probe.choose(rows, 3)
    from rawdata.synth.modma import VERSION, ModmaSynthParams
    recorded = json.loads((ROOT / "benchmarks" / "results" / "modma_probe.json").read_text())
    chosen = probe.choose(recorded["main_panel"], VERSION)[0]["options"]["common_scale"]
    assert ModmaSynthParams().common_scale == ModmaSynthParams().individual_scale == chosen == recorded["chosen_scale"]
    copy = tmp_path / "probe.json"
    copy.write_text(json.dumps({**recorded, "rule": probe.RULES[1], "history": []}))
    again = probe.rechoose(copy)
    assert again["rule"] == probe.RULES[VERSION] and again["history"][0]["rule"] == probe.RULES[1]


def test_standin_carries_the_shared_theta_coupling_and_loses_it_without_the_effect(tmp_path):
    """The subject-level signal the stand-in is calibrated on (benchmarks/modma_probe.py): F3-P4 theta correlation
    ranks patients above controls at the default effect sizes, and not once the effects are switched off."""
    features = _probe_module().features

    def auc(folder: Path) -> float:
        per_probe, labels = features(folder)
        score = {s: float(x.mean()) for s, x in per_probe["theta_f3_p4"].items()}
        mdd = [score[s] for s in score if labels[s]]
        hc = [score[s] for s in score if not labels[s]]
        return float(np.mean([m > h for m in mdd for h in hc]))

    generate("modma", tmp_path / "on", subjects=10, seed=7, seconds=8)
    generate("modma", tmp_path / "off", subjects=10, seed=7, seconds=8, common_scale=0.0, individual_scale=0.0)
    assert auc(tmp_path / "on") >= 0.9
    assert auc(tmp_path / "off") < 0.8
