"""The confusion-matrix figure the report draws from details.json."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from reports import plots


def confusion_matrix_figure(cm, class_names: list[str], path: str | Path, title: str = "") -> Path:
    """Row-normalised colours with the counts written in the cells, saved as PNG (atomically).

    Laid out by construction like reports/plots.py (margins from the label lengths, no ``tight_layout``, which
    would measure every text again and cost three times the drawing)."""
    cm = np.asarray(cm, dtype=float)
    norm = cm / np.maximum(cm.sum(1, keepdims=True), 1)
    labels = [str(c) for c in class_names]
    n = len(labels)
    side = 0.45 * n + 0.4
    wrapped, top = plots._title_block(title, side + 1.0)
    left = 0.45 + plots.text_inches(labels, plots.TICK_PT, 90)
    bottom = 0.45 + plots.text_inches(labels, plots.TICK_PT, 45)
    fig, (ax,) = plots._figure(side, side, left=left, bottom=bottom, top=top, right=0.2)
    ax.imshow(norm, cmap="Blues", vmin=0, vmax=1, aspect="auto")
    for i in range(n):
        for j in range(n):
            ax.text(j, i, int(cm[i, j]), ha="center", va="center", fontsize=plots.TICK_PT,
                    color="white" if norm[i, j] > 0.5 else "black")
    ax.set_xticks(range(n), labels, rotation=45, ha="right", fontsize=plots.TICK_PT)
    ax.set_yticks(range(n), labels, fontsize=plots.TICK_PT)
    ax.set_xlabel("predicted", fontsize=plots.TICK_PT)
    ax.set_ylabel("true", fontsize=plots.TICK_PT)
    if title:
        plots._put_title(fig, wrapped)
    return plots._save(fig, Path(path))
