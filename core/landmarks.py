"""The 68-point facial landmark scheme (iBUG 300-W, what dlib's shape predictor outputs), shared by the layers.

Indices 0-16 jaw line, 17-21 and 22-26 the brows, 27-30 nose bridge, 31-35 nostrils, 36-41 and 42-47 the eyes,
48-59 outer and 60-67 inner lips.
"""

from __future__ import annotations

N_LANDMARKS = 68

FACE_COMPONENTS: dict[str, tuple[int, ...]] = {
    "brows": tuple(range(17, 27)),
    "eyes": tuple(range(36, 48)),
    "nose": tuple(range(27, 36)),
    "mouth": tuple(range(48, 68)),
    "contour": tuple(range(0, 17)),
}
"""The facial key components of DeRe-GRL (brows, eyes, nose, mouth, jaw/contour) as landmark indices; the report
labels DeRe-GRL's interpretation maps with their names."""
