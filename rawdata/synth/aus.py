"""FACS action units as landmark displacements, and emotion -> AU priors for the stand-in datasets.

**Displacements.** Each AU is a list of moves of the subject's RIGHT-side and midline control points (the 68
iBUG landmarks plus the virtual skin points of `face.py`), written in a face-aligned frame as
(`lateral`: away from the facial midline, `up`: toward the forehead). The left side is the mirror image. The
directions follow the FACS descriptions of each AU's appearance changes (Ekman, Friesen & Hager, FACS Manual,
2002): e.g. AU1 raises the inner brows, AU4 lowers and draws the brows together, AU12 pulls the lip corners up
and out, AU15 pulls them down, AU26 drops the jaw. The relative weights of the points (how far a neighbouring
point follows the main one) are our choice: FACS gives no numbers. Sides: `""` moves both sides, `"R"`/`"L"`
only the subject's right/left side, with midline points at half weight (as for the coding-sheet codes `R12`,
`L14`).

**Amplitude.** An AU of amplitude `a` px moves the landmark it moves most by exactly `a` px at the apex (each
variant is normalised over the 68 landmarks); virtual skin points follow with their own weights. Micro
amplitudes are 0.5-2.5 px on a 180 px face (the issue's specification; Yan et al. 2013 and Davison et al. 2018
describe micro-expressions as low-intensity, under 500 ms).

**Priors.** :data:`EMOTION_AU_PRIORS` gives, for each emotion, AU combinations with probabilities, in the
spirit of EMFACS prototypes (Friesen & Ekman 1983) and of the AU/emotion tables of CASME II (Yan et al. 2014)
and SAMM (Davison et al. 2018): happiness AU6+12 or 12 (often unilateral), surprise AU1+2 (+5, +26), disgust
AU9 or 10 often with 4 and 7, repression AU14/15/17/24, sadness AU1+4+15, fear AU1+2+4+20, anger AU4+7 (+23,
24), contempt unilateral 12 or 14. Prototypes overlap on purpose (AU4 in disgust, anger, sadness, fear and
"others"; AU14/17 in repression and "others"), as in the real coding sheets, so emotion is not a function of
the AU set and methods can differ. The probabilities are our choice, not measured frequencies.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from rawdata.synth.face import (
    CHEEKS,
    CHIN,
    FOREHEAD,
    LEFT_SIDE,
    LOWER_CHEEKS,
    MIDLINE,
    MIRROR,
    N_CONTROL,
    N_LANDMARKS,
    RIGHT_SIDE,
    face_axes,
)

R_FOREHEAD_OUTER, R_FOREHEAD_MID, MID_FOREHEAD = FOREHEAD[0], FOREHEAD[1], FOREHEAD[2]
R_CHEEK, R_LOWER_CHEEK = CHEEKS[0], LOWER_CHEEKS[0]

# AU -> ((point, lateral, up), ...) on the subject's right side and the midline.
AU_MOVES: dict[str, tuple[tuple[int, float, float], ...]] = {
    "1": ((21, -0.1, 1.0), (20, 0.0, 0.7), (19, 0.0, 0.35), (18, 0.0, 0.1),
          (R_FOREHEAD_MID, 0.0, 0.3), (MID_FOREHEAD, 0.0, 0.35)),
    "2": ((17, 0.1, 1.0), (18, 0.05, 0.85), (19, 0.0, 0.5), (20, 0.0, 0.2),
          (R_FOREHEAD_OUTER, 0.0, 0.35), (R_FOREHEAD_MID, 0.0, 0.2)),
    "4": ((21, -0.5, -0.85), (20, -0.35, -0.75), (19, -0.2, -0.55), (18, -0.1, -0.3), (17, 0.0, -0.15),
          (37, 0.0, -0.1), (38, 0.0, -0.15), (MID_FOREHEAD, 0.0, -0.2)),
    "5": ((37, 0.0, 1.0), (38, 0.0, 1.0), (36, 0.0, 0.2), (39, 0.0, 0.2), (19, 0.0, 0.1), (20, 0.0, 0.1)),
    "6": ((41, 0.0, 1.0), (40, 0.0, 0.8), (36, 0.15, 0.4), (R_CHEEK, 0.1, 0.9), (R_LOWER_CHEEK, 0.1, 0.5),
          (48, 0.05, 0.15)),
    "7": ((40, 0.0, 1.0), (41, 0.0, 1.0), (37, 0.0, -0.35), (38, 0.0, -0.35), (36, 0.0, 0.1), (39, 0.0, 0.1)),
    "9": ((31, 0.05, 1.0), (32, 0.0, 0.8), (33, 0.0, 0.6), (30, 0.0, 0.55), (29, 0.0, 0.4), (28, 0.0, 0.25),
          (50, 0.0, 0.5), (51, 0.0, 0.45), (49, 0.0, 0.3), (21, -0.2, -0.35), (39, 0.0, 0.2)),
    "10": ((50, 0.0, 1.0), (49, 0.05, 0.8), (51, 0.0, 0.8), (61, 0.0, 0.7), (62, 0.0, 0.6), (48, 0.0, 0.3),
           (31, 0.0, 0.3), (32, 0.0, 0.2), (R_LOWER_CHEEK, 0.0, 0.3)),
    "12": ((48, 0.8, 0.6), (60, 0.7, 0.5), (49, 0.4, 0.4), (59, 0.45, 0.3), (61, 0.3, 0.3), (67, 0.3, 0.2),
           (50, 0.15, 0.2), (R_LOWER_CHEEK, 0.3, 0.5), (R_CHEEK, 0.1, 0.3), (41, 0.0, 0.1)),
    "14": ((48, 1.0, 0.0), (60, 0.85, 0.0), (49, 0.3, -0.1), (59, 0.3, 0.1), (50, 0.0, -0.1), (58, 0.0, 0.1),
           (R_LOWER_CHEEK, 0.3, 0.0)),
    "15": ((48, 0.2, -1.0), (60, 0.15, -0.8), (59, 0.1, -0.6), (58, 0.0, -0.35), (49, 0.05, -0.4),
           (67, 0.1, -0.4), (5, 0.0, -0.15), (R_LOWER_CHEEK, 0.0, -0.3)),
    "17": ((57, 0.0, 1.0), (58, 0.0, 0.9), (59, 0.0, 0.6), (66, 0.0, 0.7), (67, 0.0, 0.6), (48, 0.0, 0.2),
           (8, 0.0, 0.6), (7, 0.0, 0.5), (6, 0.0, 0.3), (CHIN, 0.0, 0.9)),
    "20": ((48, 1.0, -0.25), (60, 0.85, -0.2), (59, 0.6, -0.3), (58, 0.3, -0.25), (49, 0.5, -0.05),
           (67, 0.4, -0.2), (R_LOWER_CHEEK, 0.4, -0.2), (4, 0.1, 0.0), (5, 0.1, 0.0)),
    "23": ((48, -0.6, 0.0), (60, -0.5, 0.0), (50, 0.0, -0.5), (51, 0.0, -0.6), (49, -0.2, -0.4), (58, 0.0, 0.5),
           (57, 0.0, 0.6), (59, -0.2, 0.4)),
    "24": ((51, 0.0, -0.8), (50, 0.0, -0.7), (57, 0.0, 0.8), (58, 0.0, 0.7), (62, 0.0, -0.5), (66, 0.0, 0.6),
           (61, 0.0, -0.45), (67, 0.0, 0.5), (48, -0.15, 0.0), (CHIN, 0.0, 0.3)),
    "26": ((8, 0.0, -1.0), (7, 0.0, -0.9), (6, 0.05, -0.75), (5, 0.05, -0.55), (4, 0.05, -0.35), (3, 0.0, -0.15),
           (57, 0.0, -0.8), (58, 0.0, -0.75), (59, 0.0, -0.55), (66, 0.0, -0.75), (67, 0.0, -0.7),
           (48, 0.0, -0.2), (60, 0.0, -0.25), (CHIN, 0.0, -0.9)),
    "45": ((37, 0.0, -1.0), (38, 0.0, -1.0), (36, 0.0, -0.1), (39, 0.0, -0.1), (40, 0.0, 0.15), (41, 0.0, 0.15)),
}
AUS = tuple(AU_MOVES)
SIDES = ("", "L", "R")
BLINK = "45"


@dataclass(frozen=True)
class ActionUnit:
    """One coded AU of a clip: `au` number as a string, `side` "", "L" or "R", apex amplitude in px."""

    au: str
    side: str
    amplitude: float

    @property
    def code(self) -> str:
        """The coding-sheet token: `12`, `L12`, `R14`."""
        return f"{self.side}{self.au}"


def parse_code(code: str) -> tuple[str, str]:
    """`L12` -> ("12", "L"); `4` -> ("4", "")."""
    side = code[0] if code[:1] in ("L", "R") else ""
    return code[len(side):], side


@cache
def unit_moves(au: str, side: str = "") -> np.ndarray:
    """(N_CONTROL, 2) moves in (lateral-outward, up) face units for `au` on `side`, scaled so that the largest
    landmark move is 1."""
    if au not in AU_MOVES:
        raise KeyError(f"unknown action unit {au!r}; known: {', '.join(AUS)}")
    if side not in SIDES:
        raise ValueError(f"side must be one of {SIDES}, got {side!r}")
    moves = np.zeros((N_CONTROL, 2))
    for point, lateral, up in AU_MOVES[au]:
        if point in LEFT_SIDE:
            raise ValueError(f"AU{au}: write moves on the subject's right side; point {point} is on the left")
        if point in MIDLINE:
            moves[point] = (0.0, up * (0.5 if side else 1.0))
            continue
        if side in ("", "R"):
            moves[point] = (lateral, up)
        if side in ("", "L"):
            moves[MIRROR[point]] = (lateral, up)
    moves /= np.linalg.norm(moves[:N_LANDMARKS], axis=1).max()
    moves.setflags(write=False)  # cached: shared by every caller
    return moves


def to_image_displacements(moves: np.ndarray, controls: np.ndarray) -> np.ndarray:
    """Convert (lateral-outward, up) moves into image (dx, dy) px for a face with neutral `controls`.

    Outward is toward image-left on the subject's right side and toward image-right on the left side; `up` is
    against the face's own downward axis, so rolled faces move along their own axes.
    """
    e_x, e_y = face_axes(controls[:N_LANDMARKS])
    outward = np.zeros(len(moves))
    outward[sorted(RIGHT_SIDE)] = -1.0
    outward[sorted(LEFT_SIDE)] = 1.0
    return np.outer(moves[:, 0] * outward, e_x) - np.outer(moves[:, 1], e_y)


def au_displacements(units: list[ActionUnit], controls: np.ndarray) -> np.ndarray:
    """(N_CONTROL, 2) image displacement in px of all `units` at their apex amplitudes (AUs add)."""
    total = np.zeros((N_CONTROL, 2))
    for unit in units:
        total += unit.amplitude * unit_moves(unit.au, unit.side)
    return to_image_displacements(total, controls)


def eye_opening(controls: np.ndarray) -> float:
    """Mean distance between upper and lower lid landmarks (px): the travel of a full blink."""
    upper, lower = [37, 38, 43, 44], [41, 40, 47, 46]
    return float(np.linalg.norm(controls[upper] - controls[lower], axis=1).mean())


# -- emotion priors ---------------------------------------------------------------------------------------------

EMOTION_AU_PRIORS: dict[str, tuple[tuple[str, float], ...]] = {
    "happiness": (("6+12", 0.35), ("12", 0.3), ("L12", 0.1), ("R12", 0.1), ("6", 0.05), ("1+12", 0.05),
                  ("12+17", 0.05)),
    "surprise": (("1+2", 0.45), ("1+2+5", 0.15), ("1+2+26", 0.1), ("1", 0.1), ("2", 0.05), ("L2", 0.05),
                 ("R2", 0.05), ("5", 0.05)),
    "disgust": (("4+7", 0.2), ("4", 0.15), ("9", 0.15), ("10", 0.15), ("4+9", 0.1), ("L10", 0.05), ("R10", 0.05),
                ("7", 0.1), ("9+10", 0.05)),
    "repression": (("14", 0.2), ("15", 0.15), ("17", 0.15), ("15+17", 0.15), ("14+17", 0.1), ("24", 0.1),
                   ("R14", 0.05), ("L14", 0.05), ("17+24", 0.05)),
    "sadness": (("1+4", 0.3), ("15", 0.2), ("1+4+15", 0.2), ("4+15", 0.2), ("17", 0.1)),
    "fear": (("1+2+4", 0.3), ("20", 0.2), ("4+20", 0.2), ("1+4", 0.2), ("1+2+4+5+20", 0.1)),
    "anger": (("4+7", 0.3), ("4", 0.2), ("7", 0.15), ("23", 0.1), ("24", 0.1), ("4+5+7+23", 0.05), ("4+24", 0.1)),
    "contempt": (("R12", 0.3), ("L12", 0.3), ("R14", 0.2), ("L14", 0.2)),
    "others": (("4", 0.2), ("7", 0.1), ("4+7", 0.1), ("14", 0.1), ("1", 0.1), ("17", 0.1), ("2", 0.05),
               ("12", 0.05), ("1+2", 0.05), ("10", 0.05), ("24", 0.05), ("15", 0.05)),
}
# SMIC codes only positive / negative / surprise: negative draws from every negative prototype.
EMOTION_AU_PRIORS["positive"] = EMOTION_AU_PRIORS["happiness"]
EMOTION_AU_PRIORS["negative"] = tuple(
    (combo, p / 5) for name in ("disgust", "repression", "sadness", "fear", "anger")
    for combo, p in EMOTION_AU_PRIORS[name]
)


def sample_au_codes(prior: str, rng: np.random.Generator) -> list[str]:
    """Draw one AU combination (coding-sheet tokens, e.g. ["6", "R12"]) for an emotion prior."""
    combos, weights = zip(*EMOTION_AU_PRIORS[prior], strict=True)
    weights = np.asarray(weights, dtype=float)
    return combos[rng.choice(len(combos), p=weights / weights.sum())].split("+")


def objective_class(codes: list[str]) -> int:
    """SAMM-style objective class (Davison et al. 2018) from AU codes, for the SAMM sheet's last column:
    I happiness (6, 12), II surprise (1+2, 5, 26), III anger (4, 7, 23, 24), IV disgust (9, 10),
    V sadness (15 or 1+4), VI fear (20 or 1+2+4), VII others. Checked in that order of specificity."""
    aus = {parse_code(c)[0] for c in codes}
    if "20" in aus or {"1", "2", "4"} <= aus:
        return 6
    if aus & {"9", "10"}:
        return 4
    if "15" in aus or {"1", "4"} <= aus:
        return 5
    if aus & {"6", "12"}:
        return 1
    if {"1", "2"} <= aus or aus & {"5", "26"}:
        return 2
    if aus & {"4", "7", "23", "24"}:
        return 3
    return 7
