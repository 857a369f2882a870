"""The confusion-matrix figure the report draws from metrics.json."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from core.io import atomic_path


def confusion_matrix_figure(cm, class_names: list[str], path: str | Path, title: str = "") -> Path:
    """Row-normalised confusion matrix with counts, saved as PNG (atomically)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cm = np.asarray(cm, dtype=float)
    norm = cm / np.maximum(cm.sum(1, keepdims=True), 1)
    size = 1.2 + 0.75 * len(class_names)
    fig, ax = plt.subplots(figsize=(size + 1, size))
    ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    for i in range(len(class_names)):
        for j in range(len(class_names)):
            ax.text(j, i, int(cm[i, j]), ha="center", va="center", color="white" if norm[i, j] > 0.5 else "black")
    ax.set_xticks(range(len(class_names)), class_names, rotation=45, ha="right")
    ax.set_yticks(range(len(class_names)), class_names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if title:
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    plt.close(fig)
    return Path(path)
