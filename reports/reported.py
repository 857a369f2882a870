"""The numbers papers report (reports/reported.csv) and how a measured result finds its counterpart.

One row per reported number: ``method, dataset, protocol, metric, value, citation, note``.

- ``method`` is the suite's experiment name (the ``<name>`` of ``<name>/<dataset>``: ``ststnet``,
  ``dere_grl-no_rrm``) so an ablation never borrows the full method's number; a method the suite does not
  implement (HTNet, FREEDOM, ...) keeps its paper name and appears as a reference-only row.
- ``dataset`` is the suite's dataset key; ``composite:<source>`` is one source dataset's part of a composite
  (MEGC2019 reports the composite pooled and per source dataset).
- ``protocol`` is the key :func:`reports.results.protocol_key` derives from an experiment's config
  (``loso-3class``, ``split-32class``, ``full-ranking``): a number reported under another protocol is shown as
  not comparable, never as a gap.
- ``metric`` is a metrics.json key (``uf1``, ``uar``, ``top1``, ``recall@20``, ...); ``value`` is a fraction in
  [0, 1] (percentages are converted when entered; the note says so).
- An empty ``value`` is a placeholder ("not yet entered"). Its keys may use shell wildcards: ``*`` covers every
  dataset, protocol or metric, ``befa*`` every BeFA experiment (``befa-mgcn``, ``befa-vbpr``, ...).
"""

from __future__ import annotations

import csv
import fnmatch
import math
from dataclasses import dataclass
from pathlib import Path

from core.errors import AffectError

COLUMNS = ("method", "dataset", "protocol", "metric", "value", "citation", "note")
NOT_ENTERED = "not yet entered"


@dataclass(frozen=True)
class Reported:
    """One row of reported.csv; ``value`` is None for a placeholder."""

    method: str
    dataset: str
    protocol: str
    metric: str
    value: float | None
    citation: str
    note: str

    def covers(self, method: str, dataset: str, protocol: str, metric: str) -> bool:
        """Exact keys for a reported value; shell wildcards for a placeholder."""
        pairs = ((self.method, method), (self.dataset, dataset), (self.protocol, protocol), (self.metric, metric))
        if self.value is not None:
            return all(mine == theirs for mine, theirs in pairs)
        return all(fnmatch.fnmatchcase(theirs, mine) for mine, theirs in pairs)


@dataclass(frozen=True)
class Lookup:
    """What the report shows in a "reported" cell: a number, a placeholder, or a protocol mismatch."""

    value: float | None
    citation: str = ""
    note: str = ""
    comparable: bool = True

    @property
    def text(self) -> str:
        if self.value is not None and self.comparable:
            return f"{self.value:.4f}"
        return self.note or NOT_ENTERED


def load_reported(path: str | Path) -> list[Reported]:
    """Parse reported.csv; a malformed row is an error naming the file and row."""
    path = Path(path)
    if not path.is_file():
        return []
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise AffectError(f"missing columns {missing}", path=path, hint=f"expected columns {', '.join(COLUMNS)}")
        return [_parse_row(row, path, number) for number, row in enumerate(reader, start=2)]


def _parse_row(row: dict, path: Path, number: int) -> Reported:
    fields = {c: (row.get(c) or "").strip() for c in COLUMNS}
    if not fields["method"]:
        raise AffectError(f"row {number}: empty method", path=path)
    value = None
    if fields["value"]:
        try:
            value = float(fields["value"])
        except ValueError:
            raise AffectError(f"row {number}: value {fields['value']!r} is not a number", path=path) from None
        if not (math.isfinite(value) and 0.0 <= value <= 1.0):
            raise AffectError(f"row {number}: value {value} is outside [0, 1]",
                              path=path, hint="enter percentages as fractions (54.91 -> 0.5491)")
        if not fields["citation"]:
            raise AffectError(f"row {number}: a reported value needs a citation", path=path)
    return Reported(fields["method"], fields["dataset"], fields["protocol"], fields["metric"], value,
                    fields["citation"], fields["note"])


def lookup(rows: list[Reported], method: str, dataset: str, protocol: str, metric: str) -> Lookup:
    """The reported number for one measured cell.

    Order: an exact row with a value; else a row for the same method, dataset and metric under another protocol
    (shown as not comparable); else a placeholder row's note; else "not yet entered".
    """
    exact = [r for r in rows if r.value is not None and r.covers(method, dataset, protocol, metric)]
    if exact:
        row = exact[0]
        return Lookup(row.value, row.citation, row.note)
    other = [r for r in rows if r.value is not None and r.method == method and r.dataset == dataset
             and r.metric == metric]
    if other:
        row = other[0]
        return Lookup(row.value, row.citation, f"reported under protocol {row.protocol}: not comparable",
                      comparable=False)
    placeholder = [r for r in rows if r.value is None and r.covers(method, dataset, protocol, metric)]
    if placeholder:
        row = placeholder[0]
        return Lookup(None, row.citation, f"{NOT_ENTERED}" + (f" ({row.citation})" if row.citation else ""))
    return Lookup(None, "", NOT_ENTERED)


def gap(measured: float | None, reported: Lookup) -> float | None:
    """Measured minus reported, only when both exist and the protocols match (real data only: the caller's job)."""
    if measured is None or reported.value is None or not reported.comparable:
        return None
    return measured - reported.value


def reference_only(rows: list[Reported], implemented: set[str]) -> list[Reported]:
    """Rows with a value for methods the suite does not run (shown as reference rows)."""
    return [r for r in rows if r.value is not None and r.method not in implemented]
