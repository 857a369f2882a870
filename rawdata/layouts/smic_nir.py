"""SMIC-NIR: the NIR channel of SMIC (format ``smic_nir``, dataset key ``smic_nir``); rawdata/layouts/smic.py
holds the parser and writer shared by the three channels and the facts and assumptions about them."""

from __future__ import annotations

from rawdata.layouts.smic import NIR as CHANNEL
from rawdata.layouts.smic import frame_name, recording_names, sample_clip_name, write_annotations

DATASET = CHANNEL.dataset
parse = CHANNEL.parse
recording_folder = CHANNEL.recording_folder

__all__ = ["CHANNEL", "DATASET", "frame_name", "parse", "recording_folder", "recording_names", "sample_clip_name",
           "write_annotations"]
