"""SEED layout: the stand-in round-trips through the parser; every malformed file is an error naming file and key."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import scipy.io

from core.errors import AffectError
from experiments.cli import main
from rawdata.check import check_dataset
from rawdata.layouts import parse
from rawdata.layouts import seed as layout
from rawdata.synth import generate


@pytest.fixture(scope="module")
def original(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("seed") / "seed"
    generate("seed", out, subjects=2, seed=1, windows=[6, 9], psd=False)
    return out


@pytest.fixture
def copy(original, tmp_path) -> Path:
    return Path(shutil.copytree(original, tmp_path / "seed"))


def files(root: Path) -> list[Path]:
    return sorted((root / layout.FEATURE_DIR).glob("*_*.mat"))


def rewrite(path: Path, change) -> None:
    data = {k: v for k, v in scipy.io.loadmat(str(path)).items() if not k.startswith("__")}
    change(data)
    scipy.io.savemat(str(path), data)


def test_standin_parses_clean_with_sessions_by_date(original):
    result = parse("seed", original)
    assert result.problems == [] and result.usable
    index = result.index
    assert len(index) == 2 * 3 * 15 and set(index["subject"]) == {"1", "2"}
    assert index.groupby("subject")["session"].nunique().eq(3).all()
    for _, rows in index.groupby("subject"):  # sessions follow the dates
        dates = rows.drop_duplicates("session").sort_values("session")["date"].tolist()
        assert dates == sorted(dates)
    assert index["label"].tolist()[:15] == list(layout.TRIAL_LABELS)
    assert index["windows"].between(6, 9).all() and index["features"].eq("de_LDS+de_movingAve").all()
    assert json.loads((original / "SYNTHETIC.json").read_text())["generator"] == "affect synth seed"
    trials = layout.load_trials(index.head(3))
    first = trials[index["sample_id"].iloc[0]]
    assert first.shape == (index["windows"].iloc[0], 62, 5) and first.dtype == np.float32


def test_the_root_may_be_the_feature_folder_itself(original):
    assert len(parse("seed", original / layout.FEATURE_DIR).index) == 90


def problems_of(root: Path) -> list[str]:
    return [str(p) for p in parse("seed", root).errors]


def test_missing_key_names_file_and_key(copy):
    path = files(copy)[0]
    rewrite(path, lambda d: d.pop("de_LDS3"))
    errors = problems_of(copy)
    assert any(path.name in e and "missing key de_LDS3" in e for e in errors), errors
    assert not parse("seed", copy).index["file"].eq(str(path.resolve())).any()  # the broken session is dropped


def test_wrong_shape_nans_and_uneven_windows(copy):
    a, b, c = files(copy)[:3]
    rewrite(a, lambda d: d.update(de_LDS2=d["de_LDS2"][:61]))
    rewrite(b, lambda d: d["de_movingAve5"].__setitem__((0, 0, 0), np.nan))
    rewrite(c, lambda d: d.update(de_movingAve7=d["de_movingAve7"][:, :-1]))
    errors = problems_of(copy)
    assert any(a.name in e and "de_LDS2" in e and "(61," in e and "expected (62, T windows, 5 bands)" in e
               for e in errors), errors
    assert any(b.name in e and "de_movingAve5" in e and "NaN" in e for e in errors), errors
    assert any(c.name in e and "de_movingAve7" in e and "windows" in e for e in errors), errors


def test_labels_outside_the_set_and_wrong_count(copy):
    label = copy / layout.FEATURE_DIR / layout.LABEL_FILE
    scipy.io.savemat(str(label), {"label": np.array([[1, 0, 2] + [0] * 12])})
    assert any("label.mat" in e and "[2.0] outside {1, 0, -1}" in e for e in problems_of(copy))
    scipy.io.savemat(str(label), {"label": np.zeros((1, 14))})
    assert any("14 labels, expected 15" in e for e in problems_of(copy))
    scipy.io.savemat(str(label), {"labels": np.zeros((1, 15))})
    assert any("missing key 'label'" in e for e in problems_of(copy))


def test_a_subject_without_three_sessions(copy):
    files(copy)[1].unlink()
    errors = problems_of(copy)
    assert any("subject 1: 2 session files" in e and "expected 3" in e for e in errors), errors
    assert set(parse("seed", copy).index["subject"]) == {"2"}


def test_check_lists_every_problem_at_once(copy, capsys):
    a, b = files(copy)[0], files(copy)[4]
    rewrite(a, lambda d: d.pop("de_LDS15"))
    rewrite(b, lambda d: d["de_LDS1"].__setitem__((1, 1, 1), np.inf))
    (copy / layout.FEATURE_DIR / "notes.mat").write_bytes(b"not a mat file")
    report = check_dataset("seed", copy)
    assert report.errors == 2 and report.warnings == 1 and not report.usable
    assert main(["data", "check", "seed", "--root", str(copy)]) == 1
    out = capsys.readouterr().out
    assert f"{a.name}: missing key de_LDS15" in out and "key de_LDS1: 1 NaN or infinite" in out
    assert "trials: 60" in out and "NOT usable" in out


def test_check_and_synth_from_the_cli(tmp_path, capsys):
    assert main(["synth", "seed", "--out", str(tmp_path / "s"), "--subjects", "1", "--set", "windows=[3, 4]"]) == 0
    assert main(["data", "check", "seed", "--root", str(tmp_path / "s")]) == 0
    out = capsys.readouterr().out
    assert "seed stand-in" in out and "trials: 45" in out and "usable: 0 errors" in out
    with pytest.raises(AffectError, match="does not take"):
        generate("seed", tmp_path / "t", subjects=1, no_such_knob=True)


def test_head_model_standin_parses_and_differs(tmp_path):
    pytest.importorskip("mne")
    generate("seed", tmp_path / "h", subjects=1, seed=3, windows=[3, 4], psd=False, head_model=True, sources=160)
    index = parse("seed", tmp_path / "h").index
    assert len(index) == 45
    generate("seed", tmp_path / "p", subjects=1, seed=3, windows=[3, 4], psd=False)
    a = layout.load_trials(index.head(1))[index["sample_id"].iloc[0]]
    b = layout.load_trials(parse("seed", tmp_path / "p").index.head(1))[index["sample_id"].iloc[0]]
    assert a.shape == b.shape and not np.allclose(a, b)
    assert json.loads((tmp_path / "h" / "SYNTHETIC.json").read_text())["parameters"]["head_model"] is True
