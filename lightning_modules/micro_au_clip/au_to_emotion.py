"""Emotion-label-free micro-expression recognition: emotion scores from detected AUs by FACS/EMFACS rules.

Micro-AU CLIP (arXiv 2603.16302) infers emotions from the AUs it detects without training on emotion labels. The
abstract does not give its mapping, so this module writes down the field's usual one:

- Prototypes of the basic emotions follow EMFACS-7 (Friesen & Ekman, 1983), as tabulated in the FACS
  Investigator's Guide (Ekman, Friesen & Hager, 2002): each emotion has several alternative AU combinations.
  Intensity letters and optional AUs are dropped, and combinations are kept to the AUs micro-expression datasets
  code.
- CASME II's "repression" is the class its authors assign to AU14, AU15, AU17 and AU24 alone or combined
  (Yan et al., 2014, PLoS ONE 9(1): e86041).
- Contempt is the unilateral AU14 (optionally with AU12) of EMFACS; sides are ignored here because the index's
  `aus` multi-hot ignores them.
- Aggregate classes: `positive` = happiness; `negative` = anger, contempt, disgust, fear, sadness, repression
  (the MEGC2019 composite mapping of reference/datasets.md); `surprise` = surprise.
- `others` / `other` / `neutral` have no prototype: they are the fallback and score the constant
  ``fallback_score``; they win when no prototype of another class reaches it.

Scoring (choices not fixed by the paper, each a knob of :func:`emotion_scores`):
    score(class) = max over its prototypes P of [ geometric mean of p(AU) over AUs in P ] * (1 + specificity * |P|)
With ``hard=True`` the AU probabilities are first thresholded at ``threshold`` (a literal "AU set" match: a
prototype scores 1 when all its AUs are detected). The small multiplicative ``specificity`` bonus makes a fully
matched larger prototype beat a smaller one it contains (1+2+4+5 is fear, not surprise) and adds nothing to a
prototype with no evidence. A prototype that needs an AU the dataset
does not code is skipped; a class left with no usable prototype is an error, since it could never be predicted.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from core.errors import ConfigError

EMOTION_PROTOTYPES: dict[str, tuple[tuple[int, ...], ...]] = {
    "happiness": ((6, 12), (12,)),
    "sadness": ((1, 4, 15), (1, 4, 15, 17), (6, 15), (1, 4, 11)),
    "surprise": ((1, 2, 5, 26), (1, 2, 5), (1, 2, 26), (1, 2), (5, 26)),
    "fear": ((1, 2, 4, 5, 7, 20, 26), (1, 2, 4, 5, 20), (1, 2, 4, 5), (5, 20), (1, 2, 4)),
    "anger": ((4, 5, 7, 23), (4, 5, 7, 24), (4, 5, 7, 17, 23), (4, 5, 23), (4, 5, 24), (4, 7), (4, 23)),
    "disgust": ((9,), (10,), (9, 17), (10, 17), (9, 15, 16), (10, 16, 25)),
    "contempt": ((12, 14), (14,)),
    "repression": ((14,), (15,), (17,), (24,), (15, 17), (14, 17), (17, 24), (14, 15, 17)),
}
AGGREGATES: dict[str, tuple[str, ...]] = {
    "positive": ("happiness",),
    "negative": ("anger", "contempt", "disgust", "fear", "sadness", "repression"),
}
ALIASES = {"happy": "happiness", "sad": "sadness", "angry": "anger", "surprised": "surprise", "fearful": "fear"}
FALLBACK_CLASSES = ("others", "other", "neutral")


def canonical_class(name: str) -> str:
    """Lower-case a class name and resolve aliases (`happy` -> `happiness`)."""
    key = str(name).strip().lower()
    return ALIASES.get(key, key)


def known_classes() -> list[str]:
    return sorted({*EMOTION_PROTOTYPES, *AGGREGATES, *ALIASES, *FALLBACK_CLASSES})


def class_prototypes(class_name: str) -> tuple[tuple[int, ...], ...]:
    """Every AU prototype that votes for ``class_name`` (an emotion, an aggregate, or () for a fallback class)."""
    key = canonical_class(class_name)
    if key in FALLBACK_CLASSES:
        return ()
    if key in EMOTION_PROTOTYPES:
        return EMOTION_PROTOTYPES[key]
    if key in AGGREGATES:
        return tuple(p for emotion in AGGREGATES[key] for p in EMOTION_PROTOTYPES[emotion])
    raise ConfigError(
        f"no FACS rule maps AUs to the class {class_name!r}", hint=f"known classes: {', '.join(known_classes())}"
    )


def prototype_index(class_names: Sequence[str], au_names: Sequence[str]) -> list[list[list[int]]]:
    """For each class, its prototypes as column indices into ``au_names``; prototypes needing uncoded AUs dropped."""
    column = {str(int(str(a).lstrip("LR"))): i for i, a in enumerate(au_names)}
    table = []
    for name in class_names:
        prototypes = class_prototypes(name)
        usable = [[column[str(au)] for au in p] for p in prototypes if all(str(au) in column for au in p)]
        if prototypes and not usable:
            raise ConfigError(
                f"class {name!r}: none of its FACS prototypes {list(prototypes)} can be scored with the coded AUs "
                f"{list(au_names)}"
            )
        table.append(usable)
    if not any(table):
        raise ConfigError(f"no class of {list(class_names)} has a FACS prototype: emotions cannot be inferred")
    return table


def emotion_scores(
    au_probs: torch.Tensor,
    au_names: Sequence[str],
    class_names: Sequence[str],
    *,
    fallback_score: float = 0.5,
    specificity: float = 0.01,
    hard: bool = False,
    threshold: float = 0.5,
) -> torch.Tensor:
    """(B, A) AU probabilities -> (B, C) emotion scores by the prototype rules of this module (argmax = class)."""
    if au_probs.shape[-1] != len(au_names):
        raise ValueError(f"au_probs has {au_probs.shape[-1]} columns for {len(au_names)} AU names")
    probs = (au_probs > threshold).to(au_probs.dtype) if hard else au_probs
    columns = []
    for prototypes in prototype_index(class_names, au_names):
        if not prototypes:
            columns.append(torch.full(probs.shape[:1], float(fallback_score), dtype=probs.dtype, device=probs.device))
            continue
        matches = [_geometric_mean(probs[:, p]) * (1 + specificity * len(p)) for p in prototypes]
        columns.append(torch.stack(matches, dim=1).amax(dim=1))
    return torch.stack(columns, dim=1)


def _geometric_mean(probs: torch.Tensor) -> torch.Tensor:
    return probs.clamp_min(1e-12).log().mean(dim=1).exp()
