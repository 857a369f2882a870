"""core.provenance.git_commit: the commit and its dirty mark, with paths excluded from the mark."""

import subprocess

from core.provenance import git_commit


def _git(root, *args):
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)


def test_dirty_mark_ignores_excluded_paths(tmp_path):
    (tmp_path / "results").mkdir()
    (tmp_path / "code.py").write_text("a = 1\n")
    (tmp_path / "results" / "out.json").write_text("{}\n")
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "init")
    clean = git_commit(tmp_path)
    assert len(clean) == 40 and not clean.endswith("-dirty")

    (tmp_path / "results" / "out.json").write_text('{"a": 1}\n')
    assert git_commit(tmp_path) == clean + "-dirty"
    assert git_commit(tmp_path, exclude=("results",)) == clean

    (tmp_path / "code.py").write_text("a = 2\n")
    assert git_commit(tmp_path, exclude=("results",)) == clean + "-dirty"


def test_not_a_repository(tmp_path):
    assert git_commit(tmp_path) == "unknown"
