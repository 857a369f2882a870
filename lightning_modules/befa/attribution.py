"""Which parts of a content feature drive a recommender's scores: the attribution analysis BeFA motivates itself
with (Fan et al., AAAI 2025), adapted to feature vectors.

The paper's analysis shows, per image region, how much of a content feature reflects behaviour. Here the
content features are vectors (CNN or sentence-embedding dimensions, genres on MovieLens), so the analysis is
integrated gradients (Sundararajan et al., ICML 2017) of the recommendation score with respect to every
content-feature dimension:

    IG_{i,d} = (x_{i,d} - b_d) * mean over alpha in (0, 1] of dS / dx_{i,d} at b + alpha (x - b),

where S is the sum of the scores of the analysed (user, item) pairs (each sampled user with the items the model
ranks highest for them), x the modality's feature matrix of all items (graph models let neighbours' features
influence a score too) and b the baseline: every item set to the mean feature (``baseline: mean``) or to zero.
The importance of a dimension is its summed |IG| over items, normalised to sum to one.

Outputs, for the report: per modality the importance of every dimension (named when the dataset names them,
e.g. MovieLens genres), the top dimensions, the completeness gap |sum IG - (S(x) - S(b))| / |S(x) - S(b)|, and,
on stand-ins whose generator wrote ground_truth.json, the share of importance on the dimensions that truly
carry the item factors next to the share expected by chance (a model that reads content the way behaviour wants
puts more weight there; comparing a base model with its BeFA variant is the point). For models with BeFA it adds
how much each modality's mask filters (mean gate, shares of units nearly closed or fully open).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from core.io import atomic_path
from lightning_modules.befa.adapter import BehaviourDrivenFeatureAdapter, ReleasedBehaviourGate


def feature_baseline(features: torch.Tensor, kind: str) -> torch.Tensor:
    if kind == "mean":
        return features.mean(0, keepdim=True).expand_as(features)
    if kind == "zero":
        return torch.zeros_like(features)
    raise ValueError(f"attribution baseline must be mean or zero, got {kind!r}")


def integrated_gradients(module, users: torch.Tensor, items: torch.Tensor, modality: str, steps: int = 16,
                         baseline: str = "mean") -> tuple[torch.Tensor, float]:
    """(IG (n_items, D) for the summed pair scores, completeness gap) for one modality; others stay as they are.

    ``module.pair_scores(users, items, features={modality: x})`` must be differentiable in x.
    """
    actual = module.content_features()[modality].detach()
    base = feature_baseline(actual, baseline)
    delta = actual - base
    gradient_sum = torch.zeros_like(actual)
    with torch.enable_grad():
        for alpha in (torch.arange(steps, dtype=torch.float32) + 1) / steps:  # right Riemann sum
            point = (base + alpha * delta).requires_grad_(True)
            total = module.pair_scores(users, items, features={modality: point}).sum()
            gradient_sum += torch.autograd.grad(total, point)[0]
        attribution = delta * gradient_sum / steps
        with torch.no_grad():
            change = (module.pair_scores(users, items, features={modality: actual}).sum()
                      - module.pair_scores(users, items, features={modality: base}).sum())
    gap = float((attribution.sum() - change).abs() / change.abs().clamp(min=1e-12))
    return attribution, gap


def dimension_importance(attribution: torch.Tensor) -> np.ndarray:
    """Summed |IG| of each dimension over items, normalised to sum to one."""
    importance = attribution.abs().sum(0).double()
    return (importance / importance.sum().clamp(min=1e-300)).numpy()


def analysis_pairs(topk: torch.Tensor, users: torch.Tensor, n_users: int, n_items: int, seed: int
                   ) -> tuple[torch.Tensor, torch.Tensor]:
    """(users, items) pairs: ``n_users`` users sampled with ``seed``, each with their top ``n_items`` items."""
    generator = torch.Generator().manual_seed(seed)
    chosen = torch.randperm(len(users), generator=generator)[: min(n_users, len(users))]
    items = topk[chosen, :n_items]
    return users[chosen].repeat_interleave(items.shape[1]), items.flatten()


def modality_summary(importance: np.ndarray, names: list[str] | None, informative: list[int] | None,
                     gap: float, top: int = 20) -> dict:
    order = np.argsort(-importance)
    label = (lambda d: names[d]) if names and len(names) == len(importance) else (lambda d: f"dim {d}")
    summary = {
        "n_dims": int(len(importance)),
        "completeness_gap": gap,
        "top_dims": [{"dim": int(d), "name": label(d), "importance": float(importance[d])} for d in order[:top]],
        "importance": [float(v) for v in importance],
        "top10_share": float(importance[order[:10]].sum()),
    }
    if names and len(names) == len(importance):
        summary["names"] = list(names)
    if informative is not None:
        informative = np.asarray(informative, dtype=int)
        summary["informative_dims"] = [int(d) for d in informative]
        summary["informative_share"] = float(importance[informative].sum())
        summary["informative_chance"] = float(len(informative) / len(importance))
    return summary


def attribution_analysis(module, topk: torch.Tensor, users: torch.Tensor, feature_names: dict[str, list[str]],
                         informative_dims: dict[str, list[int]] | None, attribution_cfg, seed: int) -> dict:
    """Run the analysis for every modality of a trained module; returns the JSON-ready summary."""
    pair_users, pair_items = analysis_pairs(topk, users, int(attribution_cfg.users), int(attribution_cfg.top_items),
                                            seed)
    module.eval()
    result = {"pairs": int(len(pair_users)), "steps": int(attribution_cfg.steps),
              "baseline": str(attribution_cfg.baseline), "modalities": {}}
    for modality in module.modalities:
        attribution, gap = integrated_gradients(module, pair_users, pair_items, modality, int(attribution_cfg.steps),
                                                str(attribution_cfg.baseline))
        result["modalities"][modality] = modality_summary(
            dimension_importance(attribution), feature_names.get(modality),
            (informative_dims or {}).get(modality), gap,
        )
    masks = befa_mask_summary(module)
    if masks:
        result["befa_masks"] = masks
    return result


@torch.no_grad()
def befa_mask_summary(module) -> dict[str, dict[str, float]]:
    """How much each modality's BeFA mask filters: mean gate and the shares of units nearly closed (< 0.1) or
    open (> 0.9), over all items ({} when the model has no adapter)."""
    net = getattr(module, "net", None)
    encoders = getattr(net, "content", None) or {}
    summary = {}
    for modality, features in module.content_features().items():
        adapter = encoders[modality] if modality in encoders else None
        if isinstance(adapter, (BehaviourDrivenFeatureAdapter, ReleasedBehaviourGate)):
            mask = adapter.mask_values(features, net.item_id.weight)
            summary[modality] = {"mean": float(mask.mean()), "closed_share": float((mask < 0.1).float().mean()),
                                 "open_share": float((mask > 0.9).float().mean())}
    return summary


def plot_attribution(result: dict, path: str | Path, title: str, top: int = 30) -> Path:
    """One bar chart per modality of the ``top`` most important dimensions (ground-truth informative ones in a
    second colour when known)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    modalities = result["modalities"]
    fig, axes = plt.subplots(len(modalities), 1, figsize=(10, 3.2 * len(modalities)), squeeze=False)
    for ax, (modality, summary) in zip(axes[:, 0], modalities.items()):
        importance = np.asarray(summary["importance"])
        order = np.argsort(-importance)[:top]
        names = summary.get("names")
        labels = [names[d] if names else str(d) for d in order]
        informative = set(summary.get("informative_dims", []))
        colours = ["tab:orange" if d in informative else "tab:blue" for d in order]
        ax.bar(range(len(order)), importance[order], color=colours)
        ax.set_xticks(range(len(order)), labels, rotation=60 if names else 90, fontsize=7)
        ax.set_ylabel("share of |IG|")
        subtitle = f"{modality}: top {len(order)} of {summary['n_dims']} dims"
        if "informative_share" in summary:
            subtitle += (f"; informative share {summary['informative_share']:.2f} "
                         f"(chance {summary['informative_chance']:.2f}, orange = informative)")
        ax.set_title(subtitle, fontsize=9)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110)
    plt.close(fig)
    return Path(path)
