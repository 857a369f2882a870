"""`affect synth rec`: a synthetic multimedia-recommendation dataset written in the MMRec format.

The stand-in mirrors what makes Amazon Baby/Sports/Clothing hard and what multimodal methods exploit:

- users and items carry latent factors (``latent_dim``, standard normal); a user's affinity to an item is their
  scaled dot product;
- item popularity is skewed: a Zipf-like bias ``-popularity_skew * log(rank)`` over a random ranking of items is
  added to every affinity, and user activity is log-normal with at least ``min_per_user`` interactions
  (Amazon's 5-core filtering), so a few items and users hold most interactions;
- each user's items are drawn without replacement with probability proportional to exp(affinity + bias)
  (Gumbel top-k);
- image-like features (``image_dim``, 4096 like MMRec's CNN features) are non-negative: ReLU of a random linear
  map of the item factors on a random subset of ``informative_fraction`` of the dimensions plus noise; the other
  dimensions are ReLU noise. Text-like features (``text_dim``, 384 like all-MiniLM-L6-v2) are the same kind of
  map plus noise, then L2-normalised per item like sentence embeddings. ``feature_noise`` sets the noise scale
  relative to the signal. The informative dimensions are written to ground_truth.json, so an attribution
  analysis can be checked against them.

Interactions are implicit (rating 1.0) with increasing per-user timestamps, split per user 8:1:1 at random as in
MMRec's releases (:func:`datamodules.mmrec.split_per_user`). Defaults: 3,000 users, half as many items, 20
interactions per user; sizes go up to Amazon Baby scale (19,445 users, 7,050 items, 160,792 interactions) in
about 20 s.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from core.errors import AffectError
from core.io import write_json
from rawdata.index import STANDIN_MARKER
from rawdata.layouts.mmrec import DEFAULT_RATIOS, load_mmrec, split_per_user, write_mmrec

GENERATOR = "affect synth rec"
VERSION = 1


@dataclass(frozen=True)
class RecSynthParams:
    """Every knob of the generator (all written to SYNTHETIC.json)."""

    users: int = 3000
    items: int | None = None  # None: users // 2
    interactions: int | None = None  # None: 20 per user
    image_dim: int = 4096
    text_dim: int = 384
    seed: int = 0
    name: str = "recsynth"
    latent_dim: int = 16
    popularity_skew: float = 0.8
    affinity_scale: float = 2.0
    activity_sigma: float = 1.0
    min_per_user: int = 5
    informative_fraction: float = 0.25
    feature_noise: float = 1.0
    split_ratios: tuple[float, float, float] = DEFAULT_RATIOS

    def resolved(self) -> RecSynthParams:
        """Sizes left to None filled from the number of users."""
        items = self.items if self.items is not None else max(2, self.users // 2)
        interactions = self.interactions if self.interactions is not None else 20 * self.users
        return replace(self, items=items, interactions=interactions)

    def check(self) -> None:
        if min(self.users, self.items, self.interactions, self.image_dim, self.text_dim) < 1:
            raise AffectError("users, items, interactions and feature dimensions must be positive")
        if self.interactions > self.users * self.items // 2:
            raise AffectError(f"{self.interactions} interactions cannot fit {self.users} users x {self.items} items "
                              "at under 50% density")
        if self.interactions < self.users:
            raise AffectError(f"need at least one interaction per user: {self.interactions} < {self.users} users")
        if not 0 < self.informative_fraction <= 1:
            raise AffectError(f"informative_fraction must be in (0, 1], got {self.informative_fraction}")


def interactions_per_user(params: RecSynthParams, rng: np.random.Generator) -> np.ndarray:
    """Log-normal activity with a floor of ``min_per_user`` (lowered if the total cannot afford it) and a cap of
    half the items; the counts sum exactly to ``params.interactions``."""
    floor = min(params.min_per_user, params.interactions // params.users)
    cap = max(floor, params.items // 2)
    weights = rng.lognormal(0.0, params.activity_sigma, params.users)
    counts = np.full(params.users, floor, dtype=np.int64)
    remaining = params.interactions - counts.sum()
    while remaining > 0:
        open_users = counts < cap
        share = np.where(open_users, weights, 0.0)
        counts += np.minimum(rng.multinomial(remaining, share / share.sum()), cap - counts)
        remaining = params.interactions - counts.sum()
    return counts


def popularity_bias(params: RecSynthParams, rng: np.random.Generator) -> np.ndarray:
    """Zipf-like log-popularity: -skew * log(rank) over a random ranking of the items."""
    ranks = rng.permutation(params.items) + 1
    return -params.popularity_skew * np.log(ranks)


def draw_items(user_factors: np.ndarray, item_factors: np.ndarray, bias: np.ndarray, counts: np.ndarray,
               scale: float, rng: np.random.Generator, chunk: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """(users, items) of the interactions: ``counts[u]`` distinct items per user, drawn with probability
    proportional to exp(scale * <p_u, q_i> / sqrt(d) + bias_i) by the Gumbel top-k trick."""
    latent_dim = user_factors.shape[1]
    users, items = [], []
    for start in range(0, len(user_factors), chunk):
        stop = min(start + chunk, len(user_factors))
        logits = (scale * user_factors[start:stop] @ item_factors.T / np.sqrt(latent_dim) + bias).astype(np.float32)
        uniform = rng.random(logits.shape, dtype=np.float32)
        perturbed = logits - np.log(-np.log(np.clip(uniform, 1e-12, 1 - 1e-7)))  # + standard Gumbel noise
        k = int(counts[start:stop].max())
        top = np.argpartition(-perturbed, k - 1, axis=1)[:, :k]
        order = np.argsort(-np.take_along_axis(perturbed, top, axis=1), axis=1)
        top = np.take_along_axis(top, order, axis=1)
        keep = np.arange(k)[None, :] < counts[start:stop, None]
        rows = np.broadcast_to(np.arange(start, stop)[:, None], top.shape)
        users.append(rows[keep])
        items.append(top[keep])
    return np.concatenate(users), np.concatenate(items)


def content_features(item_factors: np.ndarray, dim: int, informative: np.ndarray, noise: float,
                     rng: np.random.Generator) -> np.ndarray:
    """Item factors mapped linearly onto the ``informative`` dimensions (unit-variance signal) plus Gaussian noise
    of standard deviation ``noise`` on every dimension."""
    latent_dim = item_factors.shape[1]
    signal = np.zeros((len(item_factors), dim))
    projection = rng.normal(0.0, 1.0 / np.sqrt(latent_dim), (latent_dim, len(informative)))
    signal[:, informative] = item_factors @ projection
    return signal + noise * rng.normal(size=signal.shape)


def image_like(item_factors, params: RecSynthParams, informative, rng) -> np.ndarray:
    """Non-negative, sparse-ish like ReLU CNN activations."""
    return np.maximum(content_features(item_factors, params.image_dim, informative, params.feature_noise, rng), 0.0)


def text_like(item_factors, params: RecSynthParams, informative, rng) -> np.ndarray:
    """Unit-norm rows like sentence-transformer embeddings."""
    raw = content_features(item_factors, params.text_dim, informative, params.feature_noise, rng)
    return raw / np.linalg.norm(raw, axis=1, keepdims=True)


def informative_dims(dim: int, fraction: float, rng: np.random.Generator) -> np.ndarray:
    return np.sort(rng.choice(dim, size=max(1, int(round(fraction * dim))), replace=False))


def generate(out: str | Path, **overrides) -> Path:
    """Write a synthetic MMRec dataset into ``out`` (see the module docstring); returns ``out``."""
    params = RecSynthParams(**overrides).resolved()
    params.check()
    out = Path(out)
    rng = np.random.default_rng(params.seed)
    user_factors = rng.normal(size=(params.users, params.latent_dim))
    item_factors = rng.normal(size=(params.items, params.latent_dim))
    counts = interactions_per_user(params, rng)
    users, items = draw_items(user_factors, item_factors, popularity_bias(params, rng), counts,
                              params.affinity_scale, rng)
    image_dims = informative_dims(params.image_dim, params.informative_fraction, rng)
    text_dims = informative_dims(params.text_dim, params.informative_fraction, rng)
    features = {
        "image": image_like(item_factors, params, image_dims, rng),
        "text": text_like(item_factors, params, text_dims, rng),
    }
    order = np.lexsort((rng.random(len(users)), users))
    users, items = users[order], items[order]
    frame = pd.DataFrame({
        "userID": users,
        "itemID": items,
        "rating": 1.0,
        "timestamp": 1_500_000_000 + np.arange(len(users)) * 60,
        "x_label": split_per_user(users, params.split_ratios, seed=params.seed),
    })
    write_mmrec(out, params.name, frame, features)
    write_json(out / "ground_truth.json", {
        "latent_dim": params.latent_dim,
        "informative_dims": {"image": image_dims, "text": text_dims},
        "interactions_per_user": {"min": int(counts.min()), "median": float(np.median(counts)),
                                  "max": int(counts.max())},
        "items_never_interacted": int(params.items - len(np.unique(items))),
    })
    write_json(out / STANDIN_MARKER, {"generator": GENERATOR, "version": VERSION, "seed": params.seed,
                                      "format": "mmrec", "parameters": asdict(params)})
    return out


def generate_rec(out: str | Path, subjects: int | None = None, seed: int = 0, **options) -> dict:
    """The GENERATORS entry for kind ``rec``: ``subjects`` (the common ``--subjects`` flag) stands for the number
    of users when ``users`` is not given; returns a JSON-ready summary."""
    if subjects is not None and options.get("users") is None:
        options["users"] = subjects
    options = {k: v for k, v in options.items() if v is not None}
    known = set(RecSynthParams.__dataclass_fields__) - {"seed"}
    unknown = sorted(set(options) - known)
    if unknown:
        raise AffectError(f"`affect synth rec` has no option {', '.join(unknown)}",
                          hint=f"options: {', '.join(sorted(known))} (--set KEY=VALUE)")
    generate(out, seed=seed, **options)

    return {"kind": "rec", "out": str(out), **load_mmrec(out).summary()}
