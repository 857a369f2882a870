"""A head model for the EEG stand-ins: a sphere-model forward solution from MNE, built fully offline.

What it builds (:func:`leadfield`): the gain matrix G (62 SEED electrodes x n sources) of fixed-orientation
dipoles for a 4-shell spherical head (``mne.make_sphere_model``, MNE's default brain / CSF / skull / scalp radii
relative to a 0.09 m head, origin at (0, 0, 0.04) m in head coordinates) and a discrete source space of about
640 "cortical-like" dipoles: points on the upper part of a sphere of radius 0.07 m (a Fibonacci lattice over the
part above z = -0.01 m, i.e. under the electrode cap), each oriented radially outwards (as pyramidal cells in the
crowns of gyri are, roughly). No MRI, no BEM meshes, no download: electrode positions are MNE's shipped
``standard_1005`` montage for SEED's channel names. Choice: SEED's cerebellar CB1 / CB2 are in no standard
montage; they take the positions of I1 / I2 (the 10-5 inion-row electrodes just below O1 / O2, the nearest
standard sites) and are flagged in :func:`electrode_positions`. The EEG reference is the average of the 62
electrodes (the projection is re-referenced row-wise).

Caching: :func:`leadfield` is ``functools.lru_cache``d in-process and, when ``cache_dir`` is given, stored as
``eeg_head_<key>.npz`` there (the key hashes the parameters and MNE's version), so a stand-in run builds it once.
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path

import numpy as np

from rawdata.layouts import seed as layout

SUBSTITUTES = {"CB1": "I1", "CB2": "I2"}  # not in standard montages: nearest standard positions


def electrode_positions() -> tuple[np.ndarray, dict[str, str]]:
    """(62, 3) head-coordinate positions (m) of SEED's channels from MNE's standard_1005 montage, and the
    substitutions made (CB1 -> I1, CB2 -> I2)."""
    import warnings

    import mne

    with warnings.catch_warnings():  # MNE 1.13 deprecates the name (colin27_1005 later); the positions are its own
        warnings.simplefilter("ignore", FutureWarning)
        montage = mne.channels.make_standard_montage("standard_1005")
    positions = {name.upper(): xyz for name, xyz in montage.get_positions()["ch_pos"].items()}
    rows = []
    for name in layout.CHANNELS:
        key = SUBSTITUTES.get(name, name).upper()
        if key not in positions:
            raise KeyError(f"electrode {name} ({key}) not in MNE's standard_1005 montage")
        rows.append(positions[key])
    return np.asarray(rows, dtype=float), dict(SUBSTITUTES)


def source_grid(n_sources: int = 640, radius: float = 0.07, z_min: float = -0.01) -> tuple[np.ndarray, np.ndarray]:
    """(n, 3) positions (m, around the sphere origin) and unit radial normals of the cortical-like sources."""
    # Fibonacci lattice over the cap z/r >= z_min/r: uniform in z, golden-angle azimuth
    k = np.arange(n_sources) + 0.5
    lo = z_min / radius
    z = 1 - (1 - lo) * k / n_sources
    phi = k * np.pi * (3 - np.sqrt(5))
    ring = np.sqrt(1 - z ** 2)
    normals = np.stack([ring * np.cos(phi), ring * np.sin(phi), z], axis=1)
    return radius * normals, normals


def _key(**params) -> str:
    import mne

    text = json.dumps({**params, "mne": mne.__version__, "channels": layout.CHANNELS}, sort_keys=True)
    return hashlib.sha1(text.encode()).hexdigest()[:12]


@functools.lru_cache(maxsize=4)
def _build(n_sources: int, radius: float, head_radius: float) -> np.ndarray:
    import mne

    origin = np.array([0.0, 0.0, 0.04])
    positions, _ = electrode_positions()
    info = mne.create_info(list(layout.CHANNELS), sfreq=200.0, ch_types="eeg")
    montage = mne.channels.make_dig_montage(ch_pos=dict(zip(layout.CHANNELS, positions, strict=True)),
                                            coord_frame="head")
    info.set_montage(montage, verbose="error")
    sphere = mne.make_sphere_model(r0=tuple(origin), head_radius=head_radius, verbose="error")
    rr, nn = source_grid(n_sources, radius)
    src = mne.setup_volume_source_space(pos={"rr": rr + origin, "nn": nn}, sphere=sphere, verbose="error")
    fwd = mne.make_forward_solution(info, trans=None, src=src, bem=sphere, eeg=True, meg=False, verbose="error")
    fwd = mne.convert_forward_solution(fwd, surf_ori=True, force_fixed=True, verbose="error")
    gain = np.asarray(fwd["sol"]["data"], dtype=float)
    return gain - gain.mean(axis=0, keepdims=True)  # average reference


def leadfield(n_sources: int = 640, radius: float = 0.07, head_radius: float = 0.09,
              cache_dir: str | Path | None = None) -> np.ndarray:
    """The (62, n_sources) average-referenced gain matrix (V per A m); see the module doc."""
    path = None
    if cache_dir is not None:
        path = Path(cache_dir) / f"eeg_head_{_key(n=n_sources, r=radius, h=head_radius)}.npz"
        if path.is_file():
            return np.load(path)["gain"]
    gain = _build(int(n_sources), float(radius), float(head_radius))
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(path, gain=gain)
    return gain.copy()
