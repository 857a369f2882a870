"""The report's figures: small functions from arrays to a PNG file (the confusion matrix is reports/figures.py's).

Each function takes the destination first and then plain data (lists, dicts, arrays), writes the PNG atomically
and returns its path; none reads results files, so each is testable alone and picklable for a process pool.

Layout by construction: a figure is sized as its plot area plus margins computed from what surrounds it (tick
label lengths, title lines, a colour bar), the axes are placed with ``fig.add_axes`` and titles are figure
text in the top margin. matplotlib's ``tight_layout`` (and an axes title, which re-measures the axes'
decorations at every draw to avoid them) would measure every text again, a third of the cost of a figure, and
the report draws hundreds. Agg backend, 90 dpi (15-40 kB a figure in the HTML).
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from core.io import atomic_path

DPI = 90
TITLE_PT = 8
TICK_PT = 8
CHAR_WIDTH = 0.55  # average glyph width as a fraction of the font size (DejaVu Sans)
STANDIN_COLOUR = "#d9a400"
REAL_COLOUR = "#2f7d32"
PALETTE = ("#3b6ea5", "#d9822b", "#5a9e4b", "#b8433f", "#7d5ba6", "#8c6d46", "#c05fa0", "#6b6b6b")


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> Path:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=DPI, format="png")
    _pyplot().close(fig)
    return Path(path)


def text_inches(labels: Sequence[str], points: float, rotation: float = 0.0) -> float:
    """Extent, perpendicular to the axis, of the longest label (inches)."""
    longest = max((len(str(label)) for label in labels), default=0)
    along = longest * points * CHAR_WIDTH / 72
    across = points * 1.3 / 72
    angle = math.radians(rotation)
    return along * math.sin(angle) + across * math.cos(angle)


def _wrap(title: str, width_inches: float) -> str:
    return textwrap.fill(title, width=max(30, int(width_inches * 72 / (TITLE_PT * CHAR_WIDTH))))


def _figure(plot_w: float, plot_h: float, left: float, bottom: float, top: float, right: float, panels: int = 1,
            gap: float = 0.0):
    """A figure holding ``panels`` plot areas of plot_w x plot_h inches side by side, within the margins."""
    plt = _pyplot()
    width = left + panels * plot_w + (panels - 1) * gap + right
    height = bottom + plot_h + top
    fig = plt.figure(figsize=(width, height))
    axes = [fig.add_axes(((left + i * (plot_w + gap)) / width, bottom / height, plot_w / width, plot_h / height))
            for i in range(panels)]
    return fig, axes


def _title_block(title: str, width: float) -> tuple[str, float]:
    """The title wrapped to ``width`` inches and the top margin (inches) it needs."""
    wrapped = _wrap(title, width)
    return wrapped, 0.16 + (wrapped.count("\n") + 1) * TITLE_PT * 1.35 / 72


def _put_title(fig, wrapped: str) -> None:
    """The title as figure text in the top margin (cheaper to draw than an axes title)."""
    fig.text(0.5, 1 - 0.06 / fig.get_figheight(), wrapped, ha="center", va="top", fontsize=TITLE_PT)


def _x_ticks(labels: Sequence[str]) -> tuple[float, float, str]:
    """(rotation, font size, alignment) for categorical x labels."""
    rotate = len(labels) > 8 or max((len(str(x)) for x in labels), default=0) > 10
    return (60.0 if rotate else 0.0), (7.0 if len(labels) > 20 else float(TICK_PT)), ("right" if rotate else "center")


def _as_float(values: Sequence) -> np.ndarray:
    """None (an undefined F1) becomes NaN, which matplotlib leaves out."""
    return np.array([np.nan if v is None else float(v) for v in values], dtype=float)


def bar_figure(path: Path, labels: Sequence[str], values: Sequence, title: str, ylabel: str,
               errors: Sequence | None = None, floor: Sequence | None = None, floor_label: str = "",
               standin: bool = True) -> Path:
    """Vertical bars (e.g. per-class F1), optional error bars and an optional per-bar marker (floor, accuracy)."""
    labels = [str(x) for x in labels]
    heights = _as_float(values)
    rotation, points, align = _x_ticks(labels)
    plot_w = max(4.2, 0.32 * len(labels))
    wrapped, top = _title_block(title, plot_w)
    fig, (ax,) = _figure(plot_w, 2.3, left=0.75, bottom=0.2 + text_inches(labels, points, rotation), top=top,
                         right=0.15)
    x = np.arange(len(labels))
    ax.bar(x, np.nan_to_num(heights), color=STANDIN_COLOUR if standin else REAL_COLOUR,
           yerr=None if errors is None else np.nan_to_num(_as_float(errors)), capsize=2)
    for i in np.flatnonzero(np.isnan(heights)):
        ax.text(i, 0.02, "n/a", ha="center", va="bottom", fontsize=7, rotation=90)
    if floor is not None:
        ax.scatter(x, _as_float(floor), marker="_", s=220, color="black", zorder=3, label=floor_label or "floor")
        ax.legend(fontsize=7, loc="upper right")
    ax.set_xticks(x, labels, rotation=rotation, ha=align, fontsize=points)
    ax.set_xlim(-0.6, len(labels) - 0.4)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel(ylabel, fontsize=TICK_PT)
    ax.tick_params(axis="y", labelsize=TICK_PT)
    _put_title(fig, wrapped)
    ax.grid(axis="y", alpha=0.3)
    return _save(fig, path)


def grouped_bar_figure(path: Path, groups: Sequence[str], series: Mapping[str, Sequence], title: str,
                       ylabel: str, errors: Mapping[str, Sequence] | None = None) -> Path:
    """Bars grouped by ``groups`` (e.g. direction families), one colour per series (e.g. UF1, UAR)."""
    groups = [str(g) for g in groups]
    names = list(series)
    rotation, points, align = _x_ticks(groups)
    plot_w = max(4.2, 0.45 * len(groups) * max(1, len(names)))
    wrapped, top = _title_block(title, plot_w)
    fig, (ax,) = _figure(plot_w, 2.3, left=0.75, bottom=0.2 + text_inches(groups, points, rotation), top=top,
                         right=0.15)
    x = np.arange(len(groups))
    width = 0.8 / max(1, len(names))
    for i, name in enumerate(names):
        err = None if not errors or name not in errors else np.nan_to_num(_as_float(errors[name]))
        ax.bar(x + (i - (len(names) - 1) / 2) * width, np.nan_to_num(_as_float(series[name])), width,
               yerr=err, capsize=2, label=name, color=PALETTE[i % len(PALETTE)])
    ax.set_xticks(x, groups, rotation=rotation, ha=align, fontsize=points)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel(ylabel, fontsize=TICK_PT)
    ax.tick_params(axis="y", labelsize=TICK_PT)
    _put_title(fig, wrapped)
    ax.legend(fontsize=7)
    ax.grid(axis="y", alpha=0.3)
    return _save(fig, path)


def heatmap_figure(path: Path, matrix, row_labels: Sequence[str], col_labels: Sequence[str], title: str,
                   row_title: str = "", col_title: str = "") -> Path:
    """A matrix with its values written in the cells when it is small (e.g. DeRe-GRL's component -> action map)."""
    values = np.asarray(matrix, dtype=float)
    rows, cols = values.shape
    row_labels, col_labels = [str(x) for x in row_labels], [str(x) for x in col_labels]
    rotation = 45.0 if cols > 6 else 0.0
    plot_w, plot_h = min(max(2.5, 0.55 * cols), 10.0), min(max(1.6, 0.32 * rows), 10.0)
    wrapped, top = _title_block(title, plot_w + 1.0)
    left = 0.25 + text_inches(row_labels, TICK_PT, 90) + (0.2 if row_title else 0)
    bottom = 0.2 + text_inches(col_labels, TICK_PT, rotation) + (0.2 if col_title else 0)
    fig, (ax,) = _figure(plot_w, plot_h, left=left, bottom=bottom, top=top, right=0.9)
    image = ax.imshow(values, cmap="viridis", aspect="auto")
    if rows * cols <= 400:
        threshold = np.nanmean(values)
        for i in range(rows):
            for j in range(cols):
                ax.text(j, i, f"{values[i, j]:.2f}", ha="center", va="center", fontsize=7,
                        color="white" if values[i, j] < threshold else "black")
    ax.set_xticks(range(cols), col_labels, rotation=rotation, ha="right" if rotation else "center", fontsize=TICK_PT)
    ax.set_yticks(range(rows), row_labels, fontsize=TICK_PT)
    ax.set_xlabel(col_title, fontsize=TICK_PT)
    ax.set_ylabel(row_title, fontsize=TICK_PT)
    _put_title(fig, wrapped)
    box = ax.get_position()
    colour_axes = fig.add_axes((box.x1 + 0.15 / fig.get_figwidth(), box.y0, 0.12 / fig.get_figwidth(), box.height))
    fig.colorbar(image, cax=colour_axes)
    colour_axes.tick_params(labelsize=7)
    return _save(fig, path)


def curves_figure(path: Path, curves: Mapping[str, Sequence[tuple[Sequence[float], Sequence[float]]]],
                  title: str, xlabel: str = "epoch") -> Path:
    """One panel per metric: every fold's curve faint, their mean (over folds sharing an x) bold."""
    from matplotlib.ticker import MaxNLocator

    names = list(curves)
    plot_w, gap = 3.0, 0.75
    wrapped, top = _title_block(title, len(names) * (plot_w + gap))
    fig, axes = _figure(plot_w, 2.0, left=0.7, bottom=0.5, top=top + 0.2, right=0.15, panels=len(names), gap=gap)
    for ax, name in zip(axes, names):
        folds = curves[name]
        for xs, ys in folds:
            ax.plot(xs, ys, color="#7a8aa0", alpha=0.35, linewidth=0.8)
        mean_x, mean_y = mean_curve(folds)
        if len(mean_x):
            ax.plot(mean_x, mean_y, color="#1f3f73", linewidth=2, label=f"mean of {len(folds)} fold(s)")
            ax.legend(fontsize=7)
        ax.text(0.5, 1.02, name, transform=ax.transAxes, ha="center", va="bottom", fontsize=TITLE_PT)
        ax.set_xlabel(xlabel, fontsize=TICK_PT)
        ax.tick_params(labelsize=TICK_PT)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
    _put_title(fig, wrapped)
    return _save(fig, path)


def mean_curve(folds: Sequence[tuple[Sequence[float], Sequence[float]]]) -> tuple[np.ndarray, np.ndarray]:
    """Mean value at each x over the folds that logged that x."""
    sums: dict[float, list[float]] = {}
    for xs, ys in folds:
        for x, y in zip(xs, ys):
            sums.setdefault(float(x), []).append(float(y))
    xs = np.array(sorted(sums))
    return xs, np.array([np.mean(sums[x]) for x in xs])


def ranked_bars_figure(path: Path, values: Mapping[str, float], title: str, xlabel: str, top: int = 20) -> Path:
    """Horizontal bars of the ``top`` largest |value| entries (e.g. attribution per feature dimension)."""
    items = sorted(values.items(), key=lambda kv: -abs(kv[1]))[:top][::-1]
    labels = [str(k) for k, _ in items]
    plot_w = 3.8
    wrapped, title_h = _title_block(title, plot_w)
    fig, (ax,) = _figure(plot_w, 0.2 * len(items) + 0.3, left=0.2 + text_inches(labels, 7, 90), bottom=0.5,
                         top=title_h, right=0.2)
    ax.barh(labels, [v for _, v in items], color=PALETTE[0])
    ax.set_xlabel(xlabel, fontsize=TICK_PT)
    _put_title(fig, wrapped)
    ax.tick_params(axis="y", labelsize=7)
    ax.tick_params(axis="x", labelsize=TICK_PT)
    ax.grid(axis="x", alpha=0.3)
    return _save(fig, path)


def seed_spread_figure(path: Path, panels: Mapping[str, Sequence[tuple[str, Sequence[float], float | None]]],
                       title: str, xlabel: str, standin_panels: Sequence[str] = ()) -> Path:
    """One row per experiment: each seed's value as a dot, their mean as a bar, the floor as a black tick.

    ``panels`` maps a panel title (e.g. "stand-in (synthetic)", "real") to its rows ``(label, values, floor)``;
    panels are stacked, so stand-in and real results never share an axis. Panels named in ``standin_panels`` are
    drawn in the stand-in colour, the others in the real-data colour.
    """
    names = [name for name in panels if panels[name]]
    labels = [str(label) for name in names for label, _, _ in panels[name]]
    largest = max([max(values, default=0.0) for name in names for _, values, _ in panels[name]]
                  + [floor or 0.0 for name in names for _, _, floor in panels[name]] + [0.0])
    x_max = 1.0 if largest <= 1.0 and largest > 0.3 else max(largest * 1.25, 0.05)
    plot_w, row_h, panel_gap = 4.6, 0.24, 0.45
    heights = [row_h * len(panels[name]) + 0.2 for name in names]
    wrapped, top = _title_block(title, plot_w + 1.5)
    left, bottom = 0.25 + text_inches(labels, TICK_PT, 90), 0.5
    width = left + plot_w + 0.2
    height = top + sum(heights) + panel_gap * (len(names) - 1) + 0.2 * len(names) + bottom
    plt = _pyplot()
    fig = plt.figure(figsize=(width, height))
    y_top = height - top
    for name, panel_h in zip(names, heights):
        y_top -= 0.2  # the panel's own title line
        ax = fig.add_axes((left / width, (y_top - panel_h) / height, plot_w / width, panel_h / height))
        rows = panels[name]
        colour = STANDIN_COLOUR if name in standin_panels else REAL_COLOUR
        for i, (_, values, floor) in enumerate(rows):
            y = len(rows) - 1 - i
            values = [float(v) for v in values]
            if values:
                ax.barh(y, float(np.mean(values)), height=0.6, color=colour, alpha=0.45)
                ax.scatter(values, [y] * len(values), s=14, color=colour, edgecolors="black", linewidths=0.4,
                           zorder=3)
            if floor is not None:
                ax.plot([floor, floor], [y - 0.38, y + 0.38], color="black", linewidth=1.6, zorder=4)
        ax.set_yticks(range(len(rows)), [label for label, _, _ in rows][::-1], fontsize=TICK_PT)
        ax.set_ylim(-0.6, len(rows) - 0.4)
        ax.set_xlim(0, x_max)
        ax.tick_params(axis="x", labelsize=TICK_PT)
        ax.grid(axis="x", alpha=0.3)
        ax.text(0.0, 1.0 + 0.04 / panel_h, name, transform=ax.transAxes, ha="left", va="bottom", fontsize=TITLE_PT,
                fontweight="bold")
        y_top -= panel_h + panel_gap
    ax.set_xlabel(xlabel + "   (dots: seeds, bar: mean, black tick: trivial floor)", fontsize=TICK_PT)
    _put_title(fig, wrapped)
    return _save(fig, path)


def resolution_figure(path: Path, panels: Mapping[str, Mapping[str, Sequence[tuple[float, float]]]], title: str,
                      ylabel: str = "UF1") -> Path:
    """One panel per model: one line per restoration method, score against face resolution (log2 x axis)."""
    names = list(panels)
    plot_w, gap = 3.0, 0.75
    wrapped, top = _title_block(title, len(names) * (plot_w + gap))
    fig, axes = _figure(plot_w, 2.0, left=0.7, bottom=0.5, top=top + 0.2, right=0.15, panels=len(names), gap=gap)
    for ax, name in zip(axes, names):
        for i, (method, points) in enumerate(panels[name].items()):
            pts = sorted(points)
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", markersize=3, label=method,
                    color=PALETTE[i % len(PALETTE)])
        ax.set_xscale("log", base=2)
        ticks = sorted({p[0] for points in panels[name].values() for p in points})
        ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
        ax.text(0.5, 1.02, name, transform=ax.transAxes, ha="center", va="bottom", fontsize=TITLE_PT)
        ax.set_xlabel("face resolution (px)", fontsize=TICK_PT)
        ax.set_ylabel(ylabel, fontsize=TICK_PT)
        ax.tick_params(labelsize=TICK_PT)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=6)
    _put_title(fig, wrapped)
    return _save(fig, path)
