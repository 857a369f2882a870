"""The stand-in's head model: MNE sphere forward solution, offline, cached; CB1/CB2 at I1/I2."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("mne")

from rawdata.layouts import seed as layout  # noqa: E402
from rawdata.synth import eeg_head  # noqa: E402


def test_electrodes_come_from_the_montage_with_cb_substitutes():
    positions, substitutes = eeg_head.electrode_positions()
    assert positions.shape == (62, 3) and substitutes == {"CB1": "I1", "CB2": "I2"}
    cb1, o1 = positions[layout.CHANNELS.index("CB1")], positions[layout.CHANNELS.index("O1")]
    assert cb1[2] < o1[2]  # the inion row sits below O1
    assert len({tuple(p) for p in positions}) == 62


def test_leadfield_is_average_referenced_local_and_cached(tmp_path):
    gain = eeg_head.leadfield(n_sources=120, cache_dir=tmp_path)
    assert gain.shape == (62, 120) and np.allclose(gain.sum(axis=0), 0, atol=1e-6 * np.abs(gain).max())
    assert list(tmp_path.glob("eeg_head_*.npz"))
    assert np.array_equal(eeg_head.leadfield(n_sources=120, cache_dir=tmp_path), gain)
    rr, _ = eeg_head.source_grid(120)
    positions, _ = eeg_head.electrode_positions()
    # a radial source is seen most strongly by a nearby electrode, not one on the far side of the head
    top = int(np.argmax(rr[:, 2]))
    strongest = positions[int(np.argmax(np.abs(gain[:, top])))]
    assert strongest[2] > np.median(positions[:, 2])
