"""A method's `model` block -> its plain network, each knob typed in one place: the constructor's signature.

The YAML holds a knob's default (experiments/_defaults/methods/<method>.yaml); the network's constructor says its
type. :func:`build_from_block` passes every key of the block that names a constructor argument, converted to that
argument's annotation, plus what the data decides (``fixed``: n_classes, n_aus, a built encoder), so no module
re-casts knobs by hand. A LightningModule declares how it reads its block in one :class:`ModelBlock` (its
``model_block``): the network, the keys the module reads itself (loss weights, optimiser scales), sub-blocks with a
constructor of their own, and groups of keys gathered into one dataclass argument. A key that reaches none of
them is an error naming it, when the module is built and, for every method's defaults, in
tests/test_architecture.py: a typo in a YAML cannot pass silently.

Conversions, by annotation: ``int``, ``float`` (an int is accepted), ``str``, ``bool`` (only true/false, never
``bool("false")``), ``tuple[...]`` / ``Sequence[...]`` / ``list[...]`` from a YAML list, ``X | None``,
``Literal[...]`` (the value must be one of them), a dataclass from a nested block (its fields are the schema),
``dict`` / ``Mapping[...]`` from a nested block.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import difflib
import inspect
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args, get_origin, get_type_hints

from omegaconf import OmegaConf

from core.errors import ConfigError
from core.text import TextEncoderSettings

SEQUENCES = (tuple, list, collections.abc.Sequence)
MAPPINGS = (dict, collections.abc.Mapping)


class _Mismatch(Exception):
    """A value that does not fit an annotation (reported as a ConfigError naming the key)."""


@dataclass(frozen=True)
class ModelBlock:
    """How a LightningModule reads its `model` block (or a sub-block of it).

    ``network``: the constructor (class or function) built from the block's keys. ``knobs``: keys the module
    reads itself (loss weights, optimiser scales); ``"au_loss.weight"`` names one key of a sub-block, ``"au_loss"``
    the whole sub-block. ``blocks``: sub-blocks read by a ModelBlock of their own (the skeleton encoder, the text
    encoder). ``groups``: constructor arguments that are dataclasses gathered from keys of this level (BeFA's
    flat ``befa_*`` keys -> one ``content`` argument).
    """

    network: Callable | None = None
    knobs: tuple[str, ...] = ()
    blocks: Mapping[str, ModelBlock] = field(default_factory=dict)
    groups: Mapping[str, type] = field(default_factory=dict)

    def arguments(self) -> dict[str, inspect.Parameter]:
        """The network's arguments the block may set (groups excluded: their fields are keys instead)."""
        if self.network is None:
            return {}
        return {name: p for name, p in readable_parameters(self.network).items() if name not in self.groups}

    def group_keys(self) -> dict[str, str]:
        """key -> the group argument it is gathered into."""
        return {f.name: name for name, cls in self.groups.items() for f in dataclasses.fields(cls)}

    def own_keys(self) -> set[str]:
        """Keys of this level that are not network arguments: knobs (first part), sub-blocks, group fields."""
        return {k.split(".")[0] for k in self.knobs} | set(self.blocks) | set(self.group_keys())

    def unused(self, block, at: str = "model") -> list[str]:
        """Dotted paths of the keys of ``block`` (a `model` block or sub-block) that nothing reads."""
        return [path for path, _ in self._unused(block, at)]

    def _unused(self, block, at: str) -> list[tuple[str, ModelBlock]]:
        """(path, the ModelBlock of its level) of every key nothing reads."""
        arguments, whole = self.arguments(), {k for k in self.knobs if "." not in k}
        hints = _hints(self.network) if self.network is not None else {}
        nested: dict[str, list[str]] = {}
        for knob in self.knobs:
            if "." in knob:
                head, rest = knob.split(".", 1)
                nested.setdefault(head, []).append(rest)
        found = []
        for key in block:
            path = f"{at}.{key}"
            if key in self.blocks:
                found += self.blocks[key]._unused(_mapping(block[key], path), path)
            elif key in nested and key not in whole:
                found += ModelBlock(knobs=tuple(nested[key]))._unused(_mapping(block[key], path), path)
            elif key in arguments and _dataclass_of(hints.get(key)) and _is_mapping(block[key]):
                found += ModelBlock(_dataclass_of(hints[key]))._unused(block[key], path)
            elif key not in arguments and key not in whole and key not in self.group_keys():
                found.append((path, self))
        return found

    def readers(self) -> str:
        """Who reads this level's keys, for error messages."""
        parts = []
        if self.network is not None:
            parts.append(f"{_name(self.network)}({', '.join(self.arguments())})")
        for name, cls in self.groups.items():
            parts.append(f"its {name} argument ({', '.join(f.name for f in dataclasses.fields(cls))})")
        own = sorted(self.own_keys() - set(self.blocks) - set(self.group_keys()))
        if own:
            parts.append(f"the module's own knobs ({', '.join(own)})")
        if self.blocks:
            parts.append(f"sub-blocks ({', '.join(self.blocks)})")
        return " and ".join(parts) or "nothing"

    def check(self, cfg, at: str = "model") -> None:
        """Raise a ConfigError naming every key of ``cfg``'s block at ``at`` that nothing reads, or the first value
        that does not fit its constructor argument's type (before any work: a text encoder, a graph)."""
        block = OmegaConf.select(cfg, at)
        block = block if block is not None else {}
        unused = self._unused(block, at)
        if unused:
            raise ConfigError("; ".join(_unused_message(path, reader) for path, reader in unused),
                              hint=_hint(_method(cfg)))
        self._convert_all(block, at, _method(cfg))

    def _convert_all(self, block, at: str, method: str | None) -> None:
        """Convert every value this block passes to a constructor (groups and sub-blocks included)."""
        own = self.own_keys()
        targets = [(self.network, [k for k in self.arguments() if k not in own])] if self.network is not None else []
        targets += [(cls, [f.name for f in dataclasses.fields(cls)]) for cls in self.groups.values()]
        for factory, keys in targets:
            hints = _hints(factory)
            for key in keys:
                if key in block:
                    if key not in hints:
                        raise TypeError(f"{_name(factory)}: annotate argument {key!r} so that {at}.{key} can be read")
                    convert(block[key], hints[key], f"{at}.{key}", method, _name(factory))
        for key, sub in self.blocks.items():
            if key in block:
                sub._convert_all(block[key], f"{at}.{key}", method)

    def build(self, cfg, at: str = "model", /, **fixed):
        """The network of the block at ``at`` of the run's config ``cfg`` (its keys checked first), ``fixed`` passed
        as given (arguments the data decides)."""
        if self.network is None:
            raise TypeError("this ModelBlock declares no network to build")
        self.check(cfg, at)
        block, method = OmegaConf.select(cfg, at), _method(cfg)
        for name, cls in self.groups.items():
            keys = {f.name for f in dataclasses.fields(cls)}
            fixed[name] = build_from_block(cls, {k: block[k] for k in block if k in keys}, at=at, method=method)
        return build_from_block(self.network, block, fixed, own=self.own_keys(), at=at, method=method)


# a `text_encoder` sub-block: read by core/text.py's build_text_encoder, whose settings dataclass is its schema
TEXT_ENCODER = ModelBlock(TextEncoderSettings)


def build_from_block(factory: Callable, block, fixed: Mapping[str, Any] | None = None, *, own=(),
                     at: str = "model", method: str | None = None):
    """``factory(**arguments)`` with every key of ``block`` that names an argument, converted to its annotation,
    and ``fixed`` as given. ``own``: keys of the block the caller reads itself (not passed); any other key, a value
    that does not convert and a missing required argument are ConfigErrors naming the key, the expected type and
    the method's defaults YAML (``method``); ``at`` is the block's dotted path in the run's config."""
    fixed = dict(fixed or {})
    parameters = readable_parameters(factory)
    hints = _hints(factory)
    unknown = [k for k in fixed if k not in parameters]
    if unknown:
        raise TypeError(f"{_name(factory)} has no argument(s) {unknown}")
    own = set(own)
    arguments = {}
    for key in block:
        path = f"{at}.{key}"
        if key in own:
            continue
        if key not in parameters:
            reader = ModelBlock(factory, knobs=tuple(sorted(own)))
            raise ConfigError(_unused_message(path, reader), hint=_hint(method))
        if key in fixed:
            raise ConfigError(f"{path} is decided by the data, not the config: remove it", hint=_hint(method))
        if key not in hints:
            raise TypeError(f"{_name(factory)}: annotate argument {key!r} so that {path} can be read")
        arguments[key] = convert(block[key], hints[key], path, method, _name(factory))
    for name, parameter in parameters.items():
        if name not in arguments and name not in fixed and parameter.default is inspect.Parameter.empty:
            expected = describe(hints.get(name, Any))
            raise ConfigError(f"{at}.{name} is missing: {_name(factory)} needs it ({expected})",
                              hint=f"add it to {_defaults(method)}")
    return factory(**arguments, **fixed)


def convert(value, annotation, path: str = "value", method: str | None = None, owner: str = ""):
    """``value`` (a YAML scalar, list or block) as ``annotation`` says, or a ConfigError naming ``path``."""
    if OmegaConf.is_config(value):
        value = OmegaConf.to_container(value, resolve=True)
    try:
        return _convert(value, annotation, path, method)
    except _Mismatch:
        target = f" ({owner} argument)" if owner else ""
        raise ConfigError(f"{path} must be {describe(annotation)}{target}, got {value!r}",
                          hint=_hint(method)) from None


def describe(annotation) -> str:
    """The annotation in words, for error messages."""
    origin, args = get_origin(annotation), get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        options = [describe(a) for a in args if a is not type(None)]
        return " or ".join(options) + (" or null" if type(None) in args else "")
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in args)
    if origin in SEQUENCES or annotation in (tuple, list):
        if origin is tuple and args and args[-1] is not Ellipsis:
            return f"a list of {len(args)} ({', '.join(describe(a) for a in args)})"
        return f"a list of {describe(args[0])}" if args else "a list"
    if origin in MAPPINGS or annotation in (dict,):
        return "a mapping"
    if dataclasses.is_dataclass(annotation):
        return f"a block of {annotation.__name__} ({', '.join(f.name for f in dataclasses.fields(annotation))})"
    return getattr(annotation, "__name__", str(annotation))


def readable_parameters(factory: Callable) -> dict[str, inspect.Parameter]:
    """The named arguments of a constructor or function (no ``self``, ``*args`` or ``**kwargs``)."""
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return {name: p for name, p in inspect.signature(factory).parameters.items() if p.kind in kinds}


def _convert(value, hint, path: str, method: str | None):
    origin, args = get_origin(hint), get_args(hint)
    if hint is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        for option in (a for a in args if a is not type(None)):
            try:
                return _convert(value, option, path, method)
            except _Mismatch:
                continue
        raise _Mismatch
    if value is None:
        raise _Mismatch
    if origin is Literal:
        if any(value == a and type(value) is type(a) for a in args):
            return value
        raise _Mismatch
    if hint is bool or hint is str:
        if type(value) is hint:
            return value
        raise _Mismatch
    if hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise _Mismatch
    if hint is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        raise _Mismatch
    if origin in SEQUENCES or hint in (tuple, list):
        return _sequence(value, hint, origin, args, path, method)
    if origin in MAPPINGS or hint is dict:
        if not isinstance(value, dict):
            raise _Mismatch
        key_type, value_type = args or (Any, Any)
        return {_convert(k, key_type, path, method): _convert(v, value_type, f"{path}.{k}", method)
                for k, v in value.items()}
    if dataclasses.is_dataclass(hint):
        if not isinstance(value, dict):
            raise _Mismatch
        return build_from_block(hint, value, at=path, method=method)
    raise TypeError(f"{path}: cannot read a config value as {hint!r}")


def _sequence(value, hint, origin, args, path: str, method: str | None):
    if not isinstance(value, (list, tuple)):
        raise _Mismatch
    if origin is tuple and args and args[-1] is not Ellipsis:
        if len(value) != len(args):
            raise _Mismatch
        return tuple(_convert(v, a, f"{path}[{i}]", method) for i, (v, a) in enumerate(zip(value, args)))
    element = args[0] if args else Any
    items = [_convert(v, element, f"{path}[{i}]", method) for i, v in enumerate(value)]
    return items if (origin or hint) is list else tuple(items)


def _hints(factory: Callable) -> dict[str, Any]:
    target = factory if dataclasses.is_dataclass(factory) or not isinstance(factory, type) else factory.__init__
    return get_type_hints(target)


def _dataclass_of(annotation):
    """The dataclass an argument's annotation names (also inside ``X | None``), else None."""
    options = get_args(annotation) if get_origin(annotation) in (typing.Union, types.UnionType) else (annotation,)
    return next((a for a in options if dataclasses.is_dataclass(a)), None)


def _is_mapping(value) -> bool:
    return isinstance(value, Mapping) or OmegaConf.is_dict(value)


def _mapping(value, path: str):
    if not _is_mapping(value):
        raise ConfigError(f"{path} must be a block (a mapping of keys), got {value!r}")
    return value


def _name(factory) -> str:
    return getattr(factory, "__qualname__", getattr(factory, "__name__", repr(factory)))


def _method(cfg) -> str | None:
    value = OmegaConf.select(cfg, "method") if OmegaConf.is_config(cfg) else None
    return str(value) if value is not None else None


def _defaults(method: str | None) -> str:
    return f"experiments/_defaults/methods/{method}.yaml" if method else "the method's defaults YAML"


def _hint(method: str | None) -> str:
    return f"defaults in {_defaults(method)}; the experiment's YAML and the command line may override them"


def _unused_message(path: str, reader: ModelBlock) -> str:
    level, key = path.rsplit(".", 1)
    close = difflib.get_close_matches(key, sorted(set(reader.arguments()) | reader.own_keys()), n=1, cutoff=0.6)
    suggestion = f" (did you mean {level}.{close[0]}?)" if close else ""
    return (f"{path} is read by nothing{suggestion}: {level} is read by {reader.readers()}; remove the key or "
            f"declare it in the module's model_block")
