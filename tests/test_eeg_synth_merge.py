"""benchmarks/eeg_synth.py --merge: files of runs over some variants each fold into one; a variant that two files hold
differently, another generator version or a file that is not such a results file is refused with both files
named, never overwritten by the later file."""

import json
from pathlib import Path

import pytest
from benchmark_module import load_benchmark


def _part(path: Path, variants: dict, version=3) -> Path:
    path.write_text(json.dumps({"what": "LDA", "generator_version": version, "variants": variants}))
    return path


def test_merge_unites_variants_and_accepts_the_same_variant_twice(tmp_path):
    bench = load_benchmark("eeg_synth")
    a = _part(tmp_path / "a.json", {"plain": {"runs": {"0": 0.5}}, "no_session_shift": {"runs": {"0": 0.7}}})
    b = _part(tmp_path / "b.json", {"head_model": {"runs": {"0": 0.4}}, "plain": {"runs": {"0": 0.5}}})
    merged = bench.merge([a, b])
    assert merged["variants"] == {"plain": {"runs": {"0": 0.5}}, "no_session_shift": {"runs": {"0": 0.7}},
                                  "head_model": {"runs": {"0": 0.4}}}
    assert merged["generator_version"] == 3 and merged["merged_from"] == [str(a), str(b)]
    out = tmp_path / "out.json"
    assert bench.main(["--merge", str(a), str(b), "--out", str(out)])["variants"] == merged["variants"]
    assert json.loads(out.read_text())["variants"]["head_model"] == {"runs": {"0": 0.4}}


def test_merge_refuses_a_variant_two_files_hold_differently(tmp_path):
    bench = load_benchmark("eeg_synth")
    a = _part(tmp_path / "a.json", {"plain": {"runs": {"0": 0.5}}})
    clash = _part(tmp_path / "clash.json", {"plain": {"runs": {"0": 0.9}}})
    out = tmp_path / "out.json"
    with pytest.raises(SystemExit, match="clash.json: variant plain differs from the one already read from .*a.json"):
        bench.main(["--merge", str(a), str(clash), "--out", str(out)])
    assert not out.exists()  # nothing written


def test_merge_refuses_another_generator_version_and_a_foreign_file(tmp_path):
    bench = load_benchmark("eeg_synth")
    a = _part(tmp_path / "a.json", {"plain": {"runs": {}}})
    old = _part(tmp_path / "old.json", {"head_model": {"runs": {}}}, version=2)
    with pytest.raises(SystemExit, match="old.json: generator version 2 differs from 3 of .*a.json"):
        bench.merge([a, old])
    listed = tmp_path / "listed.json"
    listed.write_text("[1, 2]")
    with pytest.raises(SystemExit, match="listed.json: not a results file of benchmarks/eeg_synth.py"):
        bench.merge([a, listed])
    flat = tmp_path / "flat.json"
    flat.write_text(json.dumps({"generator_version": 3}))
    with pytest.raises(SystemExit, match=r"flat.json: not a results file .*no variants table"):
        bench.merge([flat])
