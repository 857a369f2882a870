"""STSTNet + DANN: the deep baseline of the cross-database benchmark. STSTNet (Liong et al., FG 2019;
lightning_modules/ststnet/) trained on the labelled source with a domain-adversarial loss (Ganin et al., JMLR
2016): a domain discriminator behind a gradient-reversal layer on STSTNet's pooled features, fed source and
unlabelled target batches, its coefficient on DANN's schedule ``2 / (1 + exp(-10 p)) - 1``
(lightning_modules/layers/domain_losses.py).

Faithful: STSTNet's architecture on its published input (the 28x28 u, v, strain onset->apex image); DANN's loss,
gradient reversal and schedule. Choices (no paper pairs the two for CDMER): the discriminator (one hidden layer of
64), Adam at lr 5e-3 for ``epochs`` full passes (as the suite's STSTNet on CPU), batch 32 per domain, ``domain_weight``
1; hyper-parameters go through the same honest selectors as every CDMER method, the oracle apart.
"""

from lightning_modules.spec import MethodSpec

METHOD = MethodSpec(
    name="ststnet_dann",
    task="cdmer",
    module="lightning_modules.ststnet_dann.model",
    cls="fit_ststnet_dann",
    inputs=("image28",),
    paper="STSTNet (Liong et al., FG 2019) with DANN's domain-adversarial loss (Ganin et al., JMLR 2016)",
    summary="deep CDMER baseline: STSTNet on the source + gradient-reversal domain discriminator on source/target",
    faithfulness="STSTNet's architecture and input and DANN's loss and schedule as published; their pairing, the "
    "discriminator size and the CPU training schedule are choices (lightning_modules/ststnet_dann/__init__.py).",
    defaults_chosen="Fixed a priori: the suite's STSTNet CPU schedule (Adam 5e-3), 30 epochs, batch 32 per domain, "
    "domain weight 1, discriminator hidden 64; any grid is chosen by the honest selector, the oracle apart.",
)
