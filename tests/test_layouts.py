"""The official-layout parsers, run on their writer twins' output (stand-ins and hand-built recordings)."""

from __future__ import annotations

import importlib
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.errors import ConfigError, DatasetError
from rawdata.index import COLUMNS
from rawdata.layouts import FORMATS, composite, parse
from rawdata.layouts.common import Expression, Recording, write_frames
from rawdata.synth import generate

MICRO_FORMATS = ("casme2", "samm", "smic", "casme3", "mmew")


@pytest.fixture(scope="module")
def standins(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("raw")
    for kind in MICRO_FORMATS:
        generate(kind, root / kind, subjects=2, seed=11, clips_per_subject=2, workers=1)
    return {kind: root / kind for kind in MICRO_FORMATS}


def truth(root: Path) -> dict[str, dict]:
    return {s["sample_id"]: s for s in json.loads((root / "ground_truth.json").read_text())["samples"]}


def write_recordings(layout_name: str, root: Path, recordings: list[Recording], size: int = 8) -> None:
    """What the generator does, with blank frames: frame files through the layout's naming, then its sheet."""
    layout = importlib.import_module(FORMATS[layout_name])
    for rec in recordings:
        names = [layout.frame_name(rec, n) for n in rec.frame_numbers]
        write_frames(layout.recording_folder(root, rec), names, np.zeros((len(names), size, size, 3), np.uint8))
    layout.write_annotations(root, recordings)


# -- every layout -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", MICRO_FORMATS)
def test_the_parser_reads_back_what_the_generator_wrote(standins, kind):
    result = parse(kind, standins[kind])
    assert result.usable, result.problems
    index, expected = result.index, truth(standins[kind])
    assert list(index.columns) == list(COLUMNS)
    assert set(index["sample_id"]) == set(expected)
    assert index["sample_id"].is_unique and (index["dataset"] == kind).all()
    for row in index.itertuples():
        sample = expected[row.sample_id]
        assert row.subject == sample["subject"] and row.subject.isdigit()
        assert row.emotion == sample["emotion"].lower()
        assert row.frame_numbers == sorted(row.frame_numbers) == sample["frame_numbers"]
        assert Path(row.frame_dir).is_dir() and Path(row.frame_dir).is_absolute()
        assert all((Path(row.frame_dir) / name).is_file() for name in row.frames)
        if kind == "smic":  # no sheet: clip = onset..offset, apex the middle frame, no AUs
            assert (row.onset, row.offset) == (row.frame_numbers[0], row.frame_numbers[-1])
            assert row.apex_estimated and row.onset < row.apex < row.offset and row.aus == ""
        else:
            assert (row.onset, row.apex, row.offset) == (sample["onset"], sample["apex"], sample["offset"])
            assert not row.apex_estimated
            assert row.aus == "+".join(a["side"] + a["au"] for a in sample["aus"])


@pytest.mark.parametrize("kind", ["casme2", "samm", "mmew", "casme3"])
def test_frames_are_sorted_by_number_not_by_name(tmp_path, kind):
    numbers = tuple(range(95, 106))  # img99 < img100 only numerically
    rec = Recording(3, {"casme2": "EP01_01", "samm": "003_1_1", "mmew": "S03-01-001", "casme3": "a"}[kind], numbers,
                    (Expression({"samm": "Happiness", "casme3": "happy"}.get(kind, "happiness"), ("12",), 96, 99,
                                104),))
    write_recordings(kind, tmp_path, [rec])
    index = parse(kind, tmp_path).index
    assert index["frame_numbers"].iloc[0] == sorted(index["frame_numbers"].iloc[0])
    assert index["frame_numbers"].iloc[0][:6] == ([96, 97, 98, 99, 100, 101] if kind == "casme3" else
                                                  [95, 96, 97, 98, 99, 100])


def test_unknown_format_and_missing_folder_are_user_errors(tmp_path):
    with pytest.raises(ConfigError, match="did you mean .*casme2"):
        parse("casme", tmp_path)
    with pytest.raises(DatasetError, match="dataset folder not found"):
        parse("casme2", tmp_path / "absent")


# -- layout specifics -------------------------------------------------------------------------------------------------


def test_casme2_sheet_has_the_official_columns_with_two_unnamed(standins):
    sheet = pd.read_excel(standins["casme2"] / "CASME2-coding-20140508.xlsx")
    assert list(sheet.columns) == ["Subject", "Filename", "Unnamed: 2", "OnsetFrame", "ApexFrame", "OffsetFrame",
                                   "Unnamed: 6", "Action Units", "Estimated Emotion"]


def test_casme2_cropped_release_with_reg_img_names_parses(standins, tmp_path):
    copy = tmp_path / "casme2"
    shutil.copytree(standins["casme2"], copy)
    (copy / "CASME2_RAW_selected").rename(copy / "Cropped")
    for frame in (copy / "Cropped").rglob("img*.jpg"):
        frame.rename(frame.with_name("reg_" + frame.name))
    result = parse("casme2", copy)
    assert result.usable and len(result.index) == len(truth(standins["casme2"]))
    assert result.index["frames"].iloc[0][0].startswith("reg_img")


def test_casme2_subject_cells_like_sub01_are_normalised(tmp_path):
    from rawdata.layouts.common import write_xlsx

    rec = Recording(1, "EP02_01f", tuple(range(10, 20)), (Expression("happiness", ("12",), 11, 14, 18),))
    write_recordings("casme2", tmp_path, [rec])
    write_xlsx(tmp_path / "CASME2-coding-20140508.xlsx",
               ["Subject", "Filename", None, "OnsetFrame", "ApexFrame", "OffsetFrame", None, "Action Units",
                "Estimated Emotion"], [["sub01", "EP02_01f", None, 11.0, "14", 18, None, 12, "Happiness"]])
    index = parse("casme2", tmp_path).index
    assert index[["subject", "onset", "apex", "offset", "aus", "emotion"]].iloc[0].tolist() == [
        "1", 11, 14, 18, "12", "happiness"]


def test_samm_header_row_sits_under_thirteen_preamble_rows(standins):
    raw = pd.read_excel(standins["samm"] / "SAMM_Micro_FACS_Codes_v2.xlsx", header=None)
    assert raw.iloc[13].tolist()[:4] == ["Subject", "Filename", "Inducement Code", "Onset Frame"]
    sheet = pd.read_excel(standins["samm"] / "SAMM_Micro_FACS_Codes_v2.xlsx", header=13, dtype={"Subject": str})
    assert sheet["Subject"].str.fullmatch(r"\d{3}").all()
    assert (sheet["Duration"] == sheet["Offset Frame"] - sheet["Onset Frame"] + 1).all()


def test_samm_frame_numbers_are_padded_to_four_or_five_digits_per_clip(tmp_path):
    short = Recording(6, "006_1_1", tuple(range(5560, 5570)), (Expression("Anger", ("4",), 5561, 5564, 5568),))
    long = Recording(6, "006_1_2", tuple(range(12000, 12010)), (Expression("Anger", ("4",), 12001, 12004, 12008),))
    write_recordings("samm", tmp_path, [short, long])
    frames = dict(zip(parse("samm", tmp_path).index["clip"], parse("samm", tmp_path).index["frames"], strict=True))
    assert frames["006_1_1"][0] == "006_5560.jpg" and frames["006_1_2"][0] == "006_12000.jpg"


def test_samm_unilateral_codes_with_spaces_are_read(tmp_path):
    rec = Recording(7, "007_2_1", tuple(range(100, 110)), (Expression("Contempt", ("R12", "R15"), 101, 104, 108),))
    write_recordings("samm", tmp_path, [rec])
    assert parse("samm", tmp_path).index["aus"].iloc[0] == "R12+R15"


def test_smic_labels_come_from_folders(standins):
    index = parse("smic", standins["smic"]).index
    for row in index.itertuples():
        assert Path(row.frame_dir).parent.name == row.emotion
        assert row.frames[0].startswith("reg_image") and len(row.frames[0].split(".")[0]) == len("reg_image") + 6


def test_casme3_long_recordings_give_one_sample_per_expression(tmp_path):
    rec = Recording(2, "a", tuple(range(0, 60)), (Expression("happy", ("12",), 5, 8, 14),
                                                  Expression("disgust", ("9",), 30, 33, 40)))
    write_recordings("casme3", tmp_path, [rec])
    index = parse("casme3", tmp_path).index.set_index("clip")
    assert list(index.index) == ["a_5", "a_30"]
    assert index.loc["a_5", "frame_numbers"] == list(range(5, 15))
    assert index.loc["a_30", "frame_numbers"] == list(range(30, 41))
    assert (index["subject"] == "2").all()


# -- composite --------------------------------------------------------------------------------------------------------


def test_shipped_composite_list_has_the_challenge_counts():
    listed = composite.load_sample_list()
    counts = listed.groupby(["dataset", "label"]).size().to_dict()
    assert len(listed) == 442
    assert counts == {("casme2", "negative"): 88, ("casme2", "positive"): 32, ("casme2", "surprise"): 25,
                      ("samm", "negative"): 92, ("samm", "positive"): 26, ("samm", "surprise"): 15,
                      ("smic", "negative"): 70, ("smic", "positive"): 51, ("smic", "surprise"): 43}


def test_composite_of_standins_maps_labels_and_drops_the_rest(standins):
    result = composite.parse_sources({k: standins[k] for k in composite.SOURCES})
    index = result.index
    assert not result.errors and set(index["emotion"]) <= set(composite.CLASSES)
    assert set(index["dataset"]) <= set(composite.SOURCES)
    for source in composite.SOURCES:
        own = parse(source, standins[source]).index
        kept = own[own["emotion"].map(lambda e, s=source: composite.composite_class(s, e)).notna()]
        assert set(index.loc[index["dataset"] == source, "sample_id"]) == set(kept["sample_id"])
    for row in index.itertuples():
        assert composite.composite_class(row.dataset, row.source_emotion) == row.emotion


def test_a_licensed_copy_is_filtered_by_the_list(standins, tmp_path):
    raw = tmp_path / "raw"
    for source in composite.SOURCES:
        shutil.copytree(standins[source], raw / source)
    (raw / "casme2" / "SYNTHETIC.json").unlink()  # now it reads like a licensed copy
    first = next(parse("casme2", raw / "casme2").index.itertuples())
    listed = pd.DataFrame([["casme2", first.subject, first.clip, "surprise"], ["casme2", "26", "EP99_99", "positive"]],
                          columns=composite.LIST_COLUMNS)
    list_file = tmp_path / "list.csv"
    listed.to_csv(list_file, index=False)
    result = composite.parse_sources({k: raw / k for k in composite.SOURCES}, sample_list=list_file)
    casme2 = result.index[result.index["dataset"] == "casme2"]
    assert casme2["sample_id"].tolist() == [first.sample_id]
    assert casme2["emotion"].tolist() == ["surprise"] and casme2["source_emotion"].tolist() == [first.emotion]
    messages = " ".join(p.message for p in result.warnings)
    assert "1 casme2 samples of the list are not in the dataset" in messages


def test_a_bad_sample_list_is_a_user_error(tmp_path):
    bad = tmp_path / "list.csv"
    bad.write_text("dataset,subject,clip,label\ncasme2,1,EP01_01,happy\n")
    with pytest.raises(DatasetError, match="label one of"):
        composite.load_sample_list(bad)
