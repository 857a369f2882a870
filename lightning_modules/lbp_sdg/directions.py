"""Which HSDG directions enter LBP-SDG: ``model.directions`` resolved against preprocessing/hsdg.py's 18 steps.

The ``features`` stage stores HSDG as ``(18, D2)``, one histogram per direction in the order of
``preprocessing.hsdg.STEPS`` (unit steps ``(dt, dy, dx)``, named like ``x+`` or ``t-y+`` in ``DIRECTIONS``).
The paper compares the directions one by one and by kind of movement; the families are derived here from the
steps themselves, so they cannot drift from the feature stage:

- ``horizontal``: the step moves along x and not y (``x+-`` in the image plane, ``t+-x+-`` over time);
- ``vertical``: along y and not x;
- ``oblique``: along both x and y (the image-plane diagonals);
- ``temporal``: along t only (the same pixel in the next or previous frame);
- ``xy``, ``xt``, ``yt``: the steps lying in each of LBP-TOP's three orthogonal planes.

Distinct directions. Opposite steps carry the same information: ``G_{-d}(v) = -G_d(v - d)``, so the histogram
of ``x-`` is the bin-reversed histogram of ``x+`` over the block shifted by one voxel (tests/test_graph_methods.py
measures the difference on a clip with a moving face: a few per cent of each block's mass, at its border). The 18
steps are 9 opposite pairs; :data:`CANONICAL` keeps one of each pair (the step whose first non-zero component, in
(t, y, x) order, is positive), and ``all`` and the families mean those 9. ``all18`` keeps both members of
every pair (the paper's count, redundant here).

``model.directions`` is a list of any of: ``best`` (the paper's protocol: the one direction of ``model.candidates``
that scores best on inner validation of the fold's training subjects, chosen in each fold by the module),
``all``, ``all18``, a family name, a direction name (``t+x-``) or an index, so one experiment per family (or per
direction, e.g. ``model.directions=[t+x-]``) is one YAML or CLI line.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from core.errors import ConfigError
from preprocessing.hsdg import DIRECTIONS, STEPS


def _canonical(step: tuple[int, int, int]) -> bool:
    return next(v for v in step if v) > 0


CANONICAL = [i for i, step in enumerate(STEPS) if _canonical(step)]


def direction_families(steps: Sequence[tuple[int, int, int]] = STEPS) -> dict[str, list[int]]:
    """Family name -> indices of the canonical ``steps`` (one per opposite pair; see the module docstring)."""
    tests = {
        "horizontal": lambda t, y, x: x != 0 and y == 0,
        "vertical": lambda t, y, x: y != 0 and x == 0,
        "oblique": lambda t, y, x: x != 0 and y != 0,
        "temporal": lambda t, y, x: t != 0 and x == 0 and y == 0,
        "xy": lambda t, y, x: t == 0,
        "xt": lambda t, y, x: y == 0,
        "yt": lambda t, y, x: x == 0,
    }
    return {name: [i for i, step in enumerate(steps) if _canonical(step) and test(*step)]
            for name, test in tests.items()}


FAMILIES = direction_families()


def resolve_directions(spec, n_directions: int = len(STEPS), names: Sequence[str] = DIRECTIONS) -> list[int]:
    """Sorted unique direction indices for ``spec`` (a list, or one item); a bad name or index is an error."""
    items = list(spec) if isinstance(spec, Sequence) and not isinstance(spec, str) else [spec]
    chosen: set[int] = set()
    for item in items:
        text = str(item)
        if text == "all":
            chosen.update(i for i in CANONICAL if i < n_directions)
        elif text == "all18":
            chosen.update(range(n_directions))
        elif text in FAMILIES:
            chosen.update(FAMILIES[text])
        elif text in names:
            chosen.add(list(names).index(text))
        elif text.lstrip("-").isdigit():
            chosen.add(int(text))
        else:
            raise ConfigError(f"model.directions: unknown direction {item!r}",
                              hint=f"use best, all, all18, a family ({', '.join(FAMILIES)}), "
                              f"a name ({', '.join(names)}) or an index")
    bad = sorted(i for i in chosen if not 0 <= i < n_directions)
    if bad:
        raise ConfigError(f"model.directions: indices {bad} are outside 0..{n_directions - 1}")
    if not chosen:
        raise ConfigError("model.directions selects no direction")
    return sorted(chosen)


def select_directions(hsdg: torch.Tensor, directions: torch.Tensor) -> torch.Tensor:
    """``(B, 18, D2)`` per-direction histograms -> ``(B, len(directions) * D2)`` concatenated in index order."""
    return hsdg.index_select(1, directions).flatten(1)
