"""SEED-IV layout: the stand-in round-trips through the parser; bad files and label lists name file and key."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import scipy.io

from experiments.cli import main
from rawdata.layouts import parse
from rawdata.layouts import seed_iv as layout
from rawdata.synth import generate


@pytest.fixture(scope="module")
def original(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("seed_iv") / "seed_iv"
    generate("seed_iv", out, subjects=2, seed=1, windows=[4, 6], psd=False)
    return out


@pytest.fixture
def copy(original, tmp_path) -> Path:
    return Path(shutil.copytree(original, tmp_path / "seed_iv"))


def session_file(root: Path, session: int, k: int = 0) -> Path:
    return sorted((root / layout.FEATURE_DIR / str(session)).glob("*.mat"))[k]


def rewrite(path: Path, change) -> None:
    data = {k: v for k, v in scipy.io.loadmat(str(path)).items() if not k.startswith("__")}
    change(data)
    scipy.io.savemat(str(path), data)


def errors(root: Path) -> list[str]:
    return [str(p) for p in parse("seed_iv", root).errors]


def test_label_lists_have_six_trials_of_each_class_per_session():
    for labels in layout.SESSION_LABELS.values():
        assert len(labels) == 24 and np.bincount(labels, minlength=4).tolist() == [6, 6, 6, 6]


def test_standin_parses_clean_with_sessions_from_folders(original):
    result = parse("seed_iv", original)
    assert result.problems == [] and result.usable
    index = result.index
    assert len(index) == 2 * 3 * 24 and set(index["subject"]) == {"1", "2"}
    for session in (1, 2, 3):
        rows = index[(index["subject"] == "1") & (index["session"] == session)].sort_values("trial")
        assert rows["label"].tolist() == list(layout.SESSION_LABELS[session])
    assert set(index["emotion"]) == {"neutral", "sad", "fear", "happy"}
    assert index["windows"].between(4, 6).all()
    assert json.loads((original / "SYNTHETIC.json").read_text())["generator"] == "affect synth seed_iv"
    first = layout.load_trials(index.head(1))[index["sample_id"].iloc[0]]
    assert first.shape == (index["windows"].iloc[0], 62, 5)


def test_missing_key_nan_and_wrong_shape_name_file_and_key(copy):
    a, b, c = session_file(copy, 1), session_file(copy, 2), session_file(copy, 3, 1)
    rewrite(a, lambda d: d.pop("de_LDS24"))
    rewrite(b, lambda d: d["de_LDS3"].__setitem__((0, 0, 0), np.nan))
    rewrite(c, lambda d: d.update(de_LDS7=d["de_LDS7"][:, :, :4]))
    found = errors(copy)
    assert any(a.name in e and "missing key de_LDS24" in e for e in found), found
    assert any(b.name in e and "de_LDS3" in e and "NaN" in e for e in found), found
    assert any(c.name in e and "de_LDS7" in e and "shape" in e for e in found), found
    index = parse("seed_iv", copy).index
    assert not index["file"].isin([str(p.resolve()) for p in (a, b, c)]).any()


def test_unexpected_label_list_and_missing_session(copy):
    folder = copy / layout.FEATURE_DIR
    (folder / layout.LABEL_OVERRIDE).write_text(json.dumps({"1": [0] * 24, "2": [0] * 23, "3": [5] * 24}))
    found = errors(copy)
    assert any(layout.LABEL_OVERRIDE in e and "key '2'" in e for e in found), found
    assert any(layout.LABEL_OVERRIDE in e and "key '3'" in e for e in found), found
    (folder / layout.LABEL_OVERRIDE).unlink()
    session_file(copy, 2).unlink()
    found = errors(copy)
    assert any("subject 1: no file in session folder(s) [2]" in e for e in found), found
    assert set(parse("seed_iv", copy).index["subject"]) == {"2"}


def test_label_override_replaces_the_lists(copy):
    lists = {s: tuple(reversed(v)) for s, v in layout.SESSION_LABELS.items()}
    layout.write_labels_override(copy / layout.FEATURE_DIR, lists)
    index = parse("seed_iv", copy).index
    rows = index[(index["subject"] == "2") & (index["session"] == 3)].sort_values("trial")
    assert rows["label"].tolist() == list(lists[3])


def test_check_from_the_cli(copy, capsys):
    assert main(["data", "check", "seed_iv", "--root", str(copy)]) == 0
    rewrite(session_file(copy, 1), lambda d: d.pop("de_LDS1"))
    assert main(["data", "check", "seed_iv", "--root", str(copy)]) == 1
    assert "missing key de_LDS1" in capsys.readouterr().out


# -- protocols on SEED-IV and across SEED <-> SEED-IV ---------------------------------------------------------------


def test_subject_dependent_uses_the_dataset_split(original):
    from datamodules.eeg_protocols import shared_trials, subject_dependent, trial_of

    index = parse("seed_iv", original).index
    folds = subject_dependent(index)
    assert len(folds) == 2 * 3
    for fold in folds:
        train = {int(trial_of(w).rsplit("_t", 1)[1]) for w in fold.train}
        test = {int(trial_of(w).rsplit("_t", 1)[1]) for w in fold.test}
        assert train == set(range(1, 17)) and test == set(range(17, 25)) and not shared_trials(fold)


def test_cross_dataset_maps_classes_and_keeps_datasets_apart(original, tmp_path):
    from core.errors import ConfigError
    from datamodules.eeg_protocols import cross_dataset_index, eeg_folds, shared_trials, trial_of

    generate("seed", tmp_path / "seed", subjects=1, seed=1, windows=[3, 4], psd=False)
    seed_index, iv_index = parse("seed", tmp_path / "seed").index, parse("seed_iv", original).index
    merged = cross_dataset_index([seed_index, iv_index], "merged")
    assert len(merged) == len(seed_index) + len(iv_index)
    iv = merged[merged["dataset"] == "seed_iv"]
    assert (iv.loc[iv["original_label"].isin([1, 2]), "label"] == "negative").all()
    assert (iv.loc[iv["original_label"] == 3, "label"] == "positive").all()
    strict = cross_dataset_index([seed_index, iv_index], "strict")
    assert set(strict["label"]) == {"positive", "neutral"}
    assert set(strict.loc[strict["dataset"] == "seed", "original_label"]) == {1, 0}
    assert set(strict.loc[strict["dataset"] == "seed_iv", "original_label"]) == {3, 0}
    folds = eeg_folds(merged, "cross_dataset")
    assert [f.name for f in folds] == ["source=seed/target=seed_iv", "source=seed_iv/target=seed"]
    for fold in folds:
        assert not shared_trials(fold)
        assert len({trial_of(w).split("_")[0] + trial_of(w).startswith("seed_iv") * "_iv" for w in fold.train}) == 1
    with pytest.raises(ConfigError, match="two datasets"):
        eeg_folds(seed_index, "cross_dataset")
    with pytest.raises(ConfigError, match="mapping"):
        cross_dataset_index([seed_index], "loose")
