from lightning_modules.spec import MethodSpec

METHOD = MethodSpec(
    name="e2stn",
    task="eeg",
    module="lightning_modules.e2stn.module",
    cls="E2STNModule",
    inputs=("de",),
    paper="Zhou, Li, Li et al., EEG-based Emotion Style Transfer Network for Cross-dataset Emotion Recognition "
    "(E2STN), 2023 (abstract in ../shared/seeds/papers-group.txt)",
    summary="content + style encoders with AdaIN re-composition and a decoder (source content in target statistics) "
    "-> content / style / reconstruction losses -> classifier on the stylised windows; unlabelled target at training",
    faithfulness="Built from the abstract only: its three modules (transfer, transfer evaluation, discriminative "
    "prediction) with our choices where it is silent: AdaIN-like statistics transfer over electrodes in a learned "
    "per-electrode feature space, decoded back to the DE space; evaluation as content (instance-normalised pattern "
    "kept), style (per-band mean / std of the paired target window taken) and self-reconstruction losses, an "
    "optional MMD term; an MLP classifier; all widths and weights (module.py, every one a model.* knob). "
    "Transductive: the target dataset's unlabelled windows are seen at training.",
    defaults_chosen="Fixed a priori, not tuned on any test fold or target label: width 32, encoder depth 2, "
    "classifier hidden 64, dropout 0.5, content / style / reconstruction weights 1, MMD weight 0, Adam lr 1e-3, "
    "weight decay 1e-4, batch 64, 6 epochs (the CPU budget of the default pipeline; no validation split).",
)
