"""The one optimiser and scheduler builder, from the `optim` config block, shared by every method.

``build_optimizer(parameters, optim_cfg, max_epochs)`` takes its arguments in torch's order (what to optimise
first). The epoch count a schedule spans is the Trainer's (:func:`trainer_epochs`), never re-read from the config.
"""

from __future__ import annotations

import torch


def build_optimizer(parameters, optim_cfg, max_epochs: int | None = None):
    """Return what `configure_optimizers` returns: an optimiser, or {"optimizer", "lr_scheduler"}.

    ``parameters``: an iterable of tensors or of param-group dicts; ``max_epochs``: the span of a cosine schedule
    (the Trainer's ``max_epochs``; needed only when ``optim.scheduler`` is ``cosine``).

    Schedules (``optim.scheduler``), stepped once per epoch: ``none``; ``cosine`` (annealed to 0 over the
    Trainer's epochs); ``exponential``: lr x ``lr_decay`` ** (epoch / ``lr_decay_epochs``), the continuous decay of
    the MMRec trainer's ``learning_rate_scheduler: [lr_decay, lr_decay_epochs]`` (MGCN's config: [0.96, 50]).
    """
    name = str(optim_cfg.name).lower()
    lr, wd = float(optim_cfg.lr), float(optim_cfg.weight_decay)
    if name == "adam":
        optimizer = torch.optim.Adam(parameters, lr=lr, weight_decay=wd)
    elif name == "adamw":
        optimizer = torch.optim.AdamW(parameters, lr=lr, weight_decay=wd)
    elif name == "sgd":
        optimizer = torch.optim.SGD(parameters, lr=lr, weight_decay=wd, momentum=float(optim_cfg.momentum))
    else:
        raise ValueError(f"optim.name must be adam, adamw or sgd, got {name!r}")
    schedule = str(optim_cfg.get("scheduler", "none"))
    if schedule == "cosine":
        if max_epochs is None:
            raise ValueError("a cosine schedule spans the Trainer's max_epochs: attach the module to a Trainer")
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(1, int(max_epochs)))
        return {"optimizer": optimizer, "lr_scheduler": scheduler}
    if schedule == "exponential":
        rate, period = float(optim_cfg.lr_decay), float(optim_cfg.lr_decay_epochs)
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda epoch: rate ** (epoch / period))
        return {"optimizer": optimizer, "lr_scheduler": scheduler}
    if schedule != "none":
        raise ValueError(f"optim.scheduler must be none, cosine or exponential, got {schedule!r}")
    return optimizer


def trainer_epochs(module) -> int | None:
    """``max_epochs`` of the Trainer running ``module`` (None outside a Trainer, e.g. a test building the optimiser)."""
    try:
        trainer = module.trainer
    except RuntimeError:  # "... is not attached to a `Trainer`"
        return None
    return None if trainer is None or trainer.max_epochs is None else int(trainer.max_epochs)
