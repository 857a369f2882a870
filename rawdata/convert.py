"""Convert a label file that arrives as a pickle, once, into a safe format (JSON, CSV or .npy).

The skeleton releases of iMiGUE and SMG (and the ST-GCN family of loaders they follow) ship labels as
``<split>_label.pkl`` holding ``(sample_names, labels)``. Unpickling runs whatever the file tells it to, so the
suite never unpickles a label file while reading a dataset: ``affect data convert SRC DST`` (this module) reads
it once through :class:`RestrictedUnpickler`, which refuses every global except

- the plain builtins that rebuild containers and scalars (``list``, ``tuple``, ``dict``, ``set``, ``frozenset``,
  ``str``, ``bytes``, ``bytearray``, ``int``, ``float``, ``complex``, ``bool``),
- what NumPy needs to rebuild arrays and scalars of numbers or strings (``numpy.core.multiarray._reconstruct``,
  ``numpy.core.multiarray.scalar``, ``numpy.core.numeric._frombuffer`` (protocol 5) and their ``numpy._core``
  spellings, ``numpy.ndarray``, ``numpy.dtype``),
- ``_codecs.encode`` restricted to latin-1 (protocol-2 pickles store raw bytes through it),

and then checks the whole result again (:func:`check_plain`): only those containers, numbers, strings and numeric
or string arrays may come out; an object array is refused even though its items were unpickled safely. Anything
else raises :class:`~core.errors.AffectError` naming the file and the refused class. The readers of the
dataset layouts read only the converted file.

Output format by the destination's suffix:
``.json`` any accepted object (tuples and arrays as lists, sets sorted, dict keys as strings);
``.csv`` a ``(sample_names, labels)`` pair, a list of ``(name, label)`` rows or a ``{name: label}`` mapping, as
columns ``sample_name,label``; ``.npy`` anything that is one numeric array (saved with ``allow_pickle=False``).
"""

from __future__ import annotations

import io
import json
import pickle
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from core.errors import AffectError
from core.io import write_csv, write_npy, write_text

ALLOWED_BUILTINS = frozenset(
    {"list", "tuple", "dict", "set", "frozenset", "str", "bytes", "bytearray", "int", "float", "complex", "bool"}
)
ALLOWED_NUMPY = frozenset(
    {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
        ("numpy.core.numeric", "_frombuffer"),
        ("numpy._core.numeric", "_frombuffer"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
    }
)
SAFE_ARRAY_KINDS = frozenset("biufcUS")  # bool, signed, unsigned, float, complex, unicode, bytes: never objects
FORMATS = (".json", ".csv", ".npy")


class RefusedPickle(AffectError):
    """A pickle asked for something other than plain lists/tuples/dicts/str/numbers or numeric arrays."""


def _latin1_encode(text, encoding="latin1", errors="strict"):
    """The only use of ``_codecs.encode`` in label pickles: protocol 2 writes bytes as latin-1 text."""
    if str(encoding).replace("-", "").replace("_", "").lower() != "latin1":
        raise pickle.UnpicklingError(f"_codecs.encode with encoding {encoding!r} (only latin-1 is allowed)")
    return str(text).encode("latin-1", errors)


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler whose ``find_class`` hands out only the globals listed in the module docstring."""

    def __init__(self, file, path: Path):
        super().__init__(file, fix_imports=True, encoding="latin1")
        self.path = path

    def find_class(self, module: str, name: str):
        if module == "builtins" and name in ALLOWED_BUILTINS:
            return getattr(__import__("builtins"), name)
        if (module, name) in ALLOWED_NUMPY:
            return _numpy_global(module, name)
        if (module, name) == ("_codecs", "encode"):
            return _latin1_encode
        raise RefusedPickle(
            f"refused to unpickle the global {module}.{name}: label files may hold only lists, tuples, dicts, "
            "strings, numbers and numeric arrays",
            path=self.path,
            hint="this file is not a plain label file; do not load it with pickle",
        )

    def persistent_load(self, pid):
        raise RefusedPickle(f"refused a persistent id {pid!r} in the pickle", path=self.path)


def _numpy_global(module: str, name: str):
    if name == "ndarray":
        return np.ndarray
    if name == "dtype":
        return np.dtype
    from numpy._core import multiarray, numeric

    return getattr(numeric if name == "_frombuffer" else multiarray, name)


def load_restricted_pickle(path: str | Path):
    """Unpickle ``path`` allowing only plain data (see module docstring); the result is checked again."""
    path = Path(path)
    if not path.is_file():
        raise AffectError("file not found", path=path)
    data = path.read_bytes()
    try:
        obj = RestrictedUnpickler(io.BytesIO(data), path).load()
    except RefusedPickle:
        raise
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError) as err:
        raise AffectError(f"not a readable label pickle: {err}", path=path) from None
    check_plain(obj, path)
    return obj


def check_plain(obj, path: Path, where: str = "the pickle") -> None:
    """Refuse anything in ``obj`` that is not a plain container, number, string or numeric/string array."""
    if obj is None or isinstance(obj, (str, bytes, bytearray, bool, int, float, complex)):
        return
    if isinstance(obj, np.ndarray) or isinstance(obj, np.generic):
        if obj.dtype.kind not in SAFE_ARRAY_KINDS:
            raise RefusedPickle(f"refused an array of dtype {obj.dtype} in {where}", path=path)
        return
    if isinstance(obj, (list, tuple, set, frozenset)):
        for i, item in enumerate(obj):
            check_plain(item, path, f"{where}[{i}]")
        return
    if isinstance(obj, dict):
        for key, value in obj.items():
            check_plain(key, path, f"{where} (a key)")
            check_plain(value, path, f"{where}[{key!r}]")
        return
    raise RefusedPickle(f"refused an object of type {type(obj).__module__}.{type(obj).__name__} in {where}", path=path)


def to_json_ready(obj):
    """Plain JSON values: tuples and arrays become lists, sets sorted lists, numpy scalars Python numbers."""
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, (bytes, bytearray)):
        return bytes(obj).decode("latin-1")
    if isinstance(obj, complex):
        return [obj.real, obj.imag]
    if isinstance(obj, (set, frozenset)):
        return sorted((to_json_ready(v) for v in obj), key=repr)
    if isinstance(obj, (list, tuple)):
        return [to_json_ready(v) for v in obj]
    if isinstance(obj, Mapping):
        return {str(to_json_ready(k)): to_json_ready(v) for k, v in obj.items()}
    return obj


def as_name_label_table(obj, path: Path) -> pd.DataFrame:
    """A ``(names, labels)`` pair, ``[(name, label), ...]`` rows or ``{name: label}`` as a two-column table."""
    if isinstance(obj, Mapping):
        names, labels = list(obj.keys()), list(obj.values())
    elif isinstance(obj, (list, tuple)) and len(obj) == 2 and all(_is_sequence(part) for part in obj):
        names, labels = list(obj[0]), list(obj[1])
    elif isinstance(obj, (list, tuple)) and all(_is_sequence(row) and len(row) == 2 for row in obj):
        names, labels = [row[0] for row in obj], [row[1] for row in obj]
    else:
        raise AffectError(
            "cannot write this pickle as CSV: expected (sample_names, labels), [(name, label), ...] or "
            "{name: label}",
            path=path,
            hint="convert it to .json instead, which keeps any plain structure",
        )
    if len(names) != len(labels):
        raise AffectError(f"{len(names)} sample names but {len(labels)} labels", path=path)
    return pd.DataFrame({"sample_name": [to_json_ready(n) for n in names], "label": to_json_ready(list(labels))})


def _numeric_array(obj) -> np.ndarray | None:
    """``obj`` as one rectangular array of numbers, or None."""
    if isinstance(obj, (dict, set, frozenset, str, bytes)):
        return None
    try:
        array = np.asarray(obj)
    except ValueError:  # ragged nesting
        return None
    return array if array.dtype.kind in "biuf" else None


def _is_sequence(value) -> bool:
    return isinstance(value, (list, tuple, np.ndarray))


def convert_labels(src: str | Path, dst: str | Path) -> Path:
    """Read the pickle ``src`` through the restricted unpickler and write it to ``dst`` (.json, .csv or .npy)."""
    src, dst = Path(src), Path(dst)
    suffix = dst.suffix.lower()
    if suffix not in FORMATS:
        raise AffectError(f"unsupported output format {dst.suffix!r}; use one of {', '.join(FORMATS)}", path=dst)
    obj = load_restricted_pickle(src)
    if suffix == ".json":
        return write_text(dst, json.dumps(to_json_ready(obj), indent=1) + "\n")
    if suffix == ".csv":
        return write_csv(dst, as_name_label_table(obj, src))
    array = _numeric_array(obj)
    if array is None:
        raise AffectError("cannot write this pickle as .npy: it is not one numeric array", path=src,
                          hint="convert it to .json instead")
    return write_npy(dst, array)
