"""DEAP layout: .mat stand-in round-trips; pickles only behind the explicit flag; bad keys name file and key."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import scipy.io

from experiments.cli import main
from rawdata.layouts import deap as layout
from rawdata.layouts import parse
from rawdata.synth import generate


@pytest.fixture(scope="module")
def original(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("deap") / "deap"
    generate("deap", out, subjects=2, seed=1, samples=64)
    return out


@pytest.fixture
def copy(original, tmp_path) -> Path:
    return Path(shutil.copytree(original, tmp_path / "deap"))


def subject_file(root: Path, k: int = 0) -> Path:
    return sorted((root / layout.MATLAB_DIR).glob("s*.mat"))[k]


def rewrite(path: Path, change) -> None:
    data = {k: v for k, v in scipy.io.loadmat(str(path)).items() if not k.startswith("__")}
    change(data)
    scipy.io.savemat(str(path), data)


def test_standin_parses_with_ratings_and_a_length_warning(original):
    result = parse("deap", original)
    assert result.errors == [] and result.usable
    assert [str(w) for w in result.warnings] and "64 samples per trial" in str(result.warnings[0])
    index = result.index
    assert len(index) == 2 * 40 and index["valence"].between(1, 9).all()
    assert (index["valence_high"] == (index["valence"] > 5)).all()


def test_bad_keys_shapes_nans_and_ratings(copy):
    a, b = subject_file(copy, 0), subject_file(copy, 1)
    rewrite(a, lambda d: d.pop("labels"))
    rewrite(b, lambda d: d["data"].__setitem__((0, 0, 0), np.nan) or d.update(labels=d["labels"] * 0))
    errors = [str(e) for e in parse("deap", copy).errors]
    assert any(a.name in e and "missing key 'labels'" in e for e in errors), errors
    assert any(b.name in e and "key 'data'" in e and "NaN" in e for e in errors), errors
    assert any(b.name in e and "key 'labels'" in e and "[1, 9]" in e for e in errors), errors
    rewrite(a, lambda d: d.update(labels=np.ones((40, 4)), data=d["data"][:, :39]))
    assert any(a.name in e and "key 'data': shape (40, 39, 64)" in e for e in map(str, parse("deap", copy).errors))


def test_pickles_only_behind_the_flag(tmp_path, capsys):
    root = tmp_path / "deap"
    generate("deap", root, subjects=1, seed=2, samples=32, python=True)
    pickle_file = root / layout.PYTHON_DIR / "s01.dat"
    assert pickle_file.is_file()
    refused = parse("deap", root)
    assert refused.index.empty and any("pickle not read" in str(e) and "s01.dat" in str(e) for e in refused.errors)
    assert len(layout.parse(root, trust_pickle=True).index) == 40
    assert main(["data", "check", "deap", "--root", str(root)]) == 1
    assert main(["data", "check", "deap", "--root", str(root), "--trust-pickle"]) == 0
    assert "samples: 40   subjects: 1" in capsys.readouterr().out
