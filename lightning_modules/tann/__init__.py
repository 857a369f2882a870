from lightning_modules.spec import MethodSpec

METHOD = MethodSpec(
    name="tann",
    task="eeg",
    module="lightning_modules.tann.module",
    cls="TANNModule",
    inputs=("de",),
    paper="Li, Fu, Li et al., A Novel Transferability Attention Neural Network Model for EEG Emotion Recognition "
    "(TANN), Neurocomputing 2021 (arXiv 2009.09585)",
    summary="per-region encoders with region-level domain discriminators (local attention) -> global feature with a "
    "sample-level discriminator (sample attention) -> classifier; gradient reversal against the unlabelled target",
    faithfulness="Built from the abstract only: brain-region features weighted by how little their region-level "
    "discriminators can tell source from target (1 + entropy of the discriminator's output), a sample-level "
    "discriminator whose entropy weights each source sample's classification loss, all adversarial through "
    "gradient reversal (lightning_modules/layers/domain_losses.py, DANN's schedule). The region encoders (a linear "
    "map per region instead of the paper's recurrent layers), the 15 grid regions, the widths and the loss weight "
    "are our choices (module.py). Transductive: the test subject's unlabelled windows are the target at training.",
    defaults_chosen="Fixed a priori, not tuned on any test fold: region width 16, global 64, discriminator hidden "
    "32, domain weight 1.0, GRL schedule gamma 10, dropout 0.5, Adam lr 1e-3, weight decay 1e-4, batch 64, 8 epochs "
    "(the default pipeline's CPU budget; no validation split).",
)
