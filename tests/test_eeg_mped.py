"""MPED layout: the stand-in round-trips through the real parser; bad files and label lists name file and key; the
release's 21 / 7 trial split and LOSO build whole-trial folds; the EEG source reads it without the resting trials."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import scipy.io

from experiments.cli import main
from rawdata.layouts import mped as layout
from rawdata.layouts import parse
from rawdata.synth import generate


@pytest.fixture(scope="module")
def original(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("mped") / "mped"
    generate("mped", out, subjects=2, seed=1, windows=[3, 5], families=list(layout.FAMILIES))
    return out


@pytest.fixture
def copy(original, tmp_path) -> Path:
    return Path(shutil.copytree(original, tmp_path / "mped"))


def feature_file(root: Path, family: str, k: int = 0) -> Path:
    return sorted((root / layout.FEATURE_DIR / family).glob("*.mat"))[k]


def rewrite(path: Path, change) -> None:
    data = {k: v for k, v in scipy.io.loadmat(str(path)).items() if not k.startswith("__")}
    change(data)
    scipy.io.savemat(str(path), data)


def errors(root: Path) -> list[str]:
    return [str(p) for p in parse("mped", root).errors]


def test_label_list_and_split_match_the_release():
    labels = np.asarray(layout.TRIAL_LABELS)
    assert len(labels) == 30 and np.bincount(labels).tolist() == [2, 4, 4, 4, 4, 4, 4, 4]
    assert [t for t in range(1, 31) if labels[t - 1] == 0] == [1, 16]
    train, test = np.asarray(layout.TRAIN_TRIALS), np.asarray(layout.TEST_TRIALS)
    assert len(train) == 21 and len(test) == 7 and not set(train) & set(test)
    assert np.bincount(labels[train - 1], minlength=8).tolist() == [0] + [3] * 7
    assert np.bincount(labels[test - 1], minlength=8).tolist() == [0] + [1] * 7


def test_standin_parses_clean_and_loads_every_feature(original):
    result = parse("mped", original)
    assert result.problems == [] and result.usable
    index = result.index
    assert len(index) == 2 * 30 and set(index["subject"]) == {"1", "2"} and set(index["session"]) == {1}
    rows = index[index["subject"] == "2"].sort_values("trial")
    assert rows["label"].tolist() == list(layout.TRIAL_LABELS)
    assert rows["split"].value_counts().to_dict() == {"train": 21, "test": 7, "rest": 2}
    assert index["features"].iloc[0] == "STFT+PSD+HHS+Hjorth+HOC"
    # a clip has the same length for every subject (as in the release)
    assert (index.pivot(index="trial", columns="subject", values="windows").nunique(axis=1) == 1).all()
    assert json.loads((original / "SYNTHETIC.json").read_text())["generator"] == "affect synth mped"
    head = index.head(2)
    for feature, width in (("STFT", 5), ("PSD", 5), ("HHS", 10), ("Hjorth", 18), ("HOC", 120)):
        arrays = layout.load_trials(head, feature)
        first = arrays[head["sample_id"].iloc[0]]
        assert first.shape == (head["windows"].iloc[0], 62, width) and first.dtype == np.float32
        assert len(layout.feature_columns(feature)) == width
    stft = layout.load_trials(head, "STFT")[head["sample_id"].iloc[0]]
    psd = layout.load_trials(head, "PSD")[head["sample_id"].iloc[0]]
    np.testing.assert_allclose(psd, np.exp(2 * stft) / (2 * np.pi * np.e), rtol=1e-4)


def test_a_file_named_by_subject_alone_is_read(copy):
    for family in layout.FAMILIES:
        path = feature_file(copy, family, 1)
        path.rename(path.parent / "2.mat")
    result = parse("mped", copy)
    assert result.errors == [] and set(result.index["subject"]) == {"1", "2"}


def test_missing_key_wrong_shape_nan_and_cell_size_name_file_and_key(copy):
    a, b, c, d = (feature_file(copy, "STFT"), feature_file(copy, "PSD", 1), feature_file(copy, "Hjorth"),
                  feature_file(copy, "HHS", 1))
    rewrite(a, lambda x: x.pop("STFT"))

    def bad_band(x):
        x["PSD"][0, 4] = x["PSD"][0, 4][:, :, :4]
    rewrite(b, bad_band)

    def nan(x):
        x["theta"][0, 2][0, 0, 0] = np.nan
    rewrite(c, nan)
    rewrite(d, lambda x: x.update(hhs_A=x["hhs_A"][:, :29]))
    found = errors(copy)
    assert any(a.name in e and "STFT" in e and "missing key 'STFT'" in e for e in found), found
    assert any(b.name in e and "key 'PSD' trial 5" in e and "shape" in e for e in found), found
    assert any(c.name in e and "key 'theta' trial 3" in e and "NaN" in e for e in found), found
    assert any(d.name in e and "key 'hhs_A'" in e and "1 x 30 cell array" in e for e in found), found
    assert all("\n" not in e for e in found)
    assert parse("mped", copy).index.empty  # both subjects lost a file


def test_an_empty_feature_folder_is_a_warning(copy):
    for path in (copy / layout.FEATURE_DIR / "HOC").glob("*.mat"):
        path.unlink()
    result = parse("mped", copy)
    assert result.errors == [] and any("HOC" in str(p) for p in result.problems)
    assert result.index["features"].iloc[0] == "STFT+PSD+HHS+Hjorth"


def test_uneven_windows_and_a_missing_subject_file(copy):
    def shorter(x):
        x["PSD"][0, 6] = x["PSD"][0, 6][:, :1, :]
    psd = feature_file(copy, "PSD")
    rewrite(psd, shorter)
    feature_file(copy, "HOC", 1).unlink()
    found = errors(copy)
    assert any(psd.name in e and "trial 7" in e and "windows" in e for e in found), found
    assert any("subject 2: no file in feature folder(s) ['HOC']" in e for e in found), found
    assert parse("mped", copy).index.empty


def test_unexpected_label_list_is_an_error_and_a_good_one_replaces_the_list(copy):
    folder = copy / layout.FEATURE_DIR
    (folder / layout.LABEL_OVERRIDE).write_text(json.dumps({"labels": [1] * 29 + [9]}))
    found = errors(copy)
    assert any(layout.LABEL_OVERRIDE in e and "key 'labels'" in e and "30 labels in 0..7" in e for e in found), found
    assert parse("mped", copy).index.empty
    reordered = tuple(reversed(layout.TRIAL_LABELS))
    layout.write_labels_override(folder, reordered)
    index = parse("mped", copy).index
    assert index[index["subject"] == "1"].sort_values("trial")["label"].tolist() == list(reordered)


def test_check_and_synth_from_the_cli(copy, tmp_path, capsys):
    assert main(["data", "check", "mped", "--root", str(copy)]) == 0
    rewrite(feature_file(copy, "STFT"), lambda x: x.pop("STFT"))
    assert main(["data", "check", "mped", "--root", str(copy)]) == 1
    assert "missing key 'STFT'" in capsys.readouterr().out
    out = tmp_path / "cli"
    assert main(["synth", "mped", "--out", str(out), "--subjects", "1", "--set", "windows=[2, 3]"]) == 0
    assert sorted(p.name for p in (out / layout.FEATURE_DIR).iterdir()) == ["PSD", "STFT"]
    assert parse("mped", out).usable


def test_subject_dependent_uses_the_release_split_and_loso_whole_trials(original):
    from datamodules.eeg_protocols import eeg_folds, shared_trials, trial_of

    index = parse("mped", original).index
    folds = eeg_folds(index, "subject_dependent")
    assert len(folds) == 2
    for fold in folds:
        train = {int(trial_of(w).rsplit("_t", 1)[1]) for w in fold.train}
        test = {int(trial_of(w).rsplit("_t", 1)[1]) for w in fold.test}
        assert train == set(layout.TRAIN_TRIALS) and test == set(layout.TEST_TRIALS) and not shared_trials(fold)
    loso = eeg_folds(index, "loso")
    assert len(loso) == 2 and all(not shared_trials(f) for f in loso)


def test_eeg_source_reads_mped_without_resting_trials(original):
    from datamodules.eeg import EEGSource
    from experiments.config import load_experiment

    cfg = load_experiment("dgcnn/mped", [f"data.eeg_root={original}"])
    source = EEGSource(cfg, (), ".")
    assert "resting" not in set(source.trials["emotion"]) and len(source.trials) == 2 * 28
    assert source.x.shape[1:] == (62, 5) and len(source.index) == source.trials["windows"].sum()
    info = source.info(list(source.index["sample_id"]))
    assert info.n_classes == 7 and info.bands == list(layout.BANDS) and info.channels == list(layout.CHANNELS)
    assert {p.parent.name for p in source.data_files()} == {"STFT"} and len(source.data_files()) == 2
    hoc = EEGSource(load_experiment("dgcnn/mped", [f"data.eeg_root={original}", "data.feature=HOC"]), (), ".")
    assert hoc.x.shape[1:] == (62, 120) and hoc.info(list(hoc.index["sample_id"][:5])).n_bands == 120
    with pytest.raises(Exception, match="resting"):
        EEGSource(load_experiment("dgcnn/mped", [f"data.eeg_root={original}", "data.exclude_emotions=[]"]), (), ".")
