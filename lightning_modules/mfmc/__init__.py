from lightning_modules.spec import MethodSpec

METHOD = MethodSpec(
    name="mfmc",
    task="eeg",
    module="lightning_modules.mfmc.module",
    cls="MFMCModule",
    inputs=("de", "peripheral"),
    paper="Zheng et al., Multimodal Functional Maximum Correlation for self-supervised multimodal physiological "
    "learning (MFMC), abstract in shared/seeds/papers-group.txt; code github.com/DY9910/MFMC (read for facts)",
    summary="one encoder per modality (EEG DE, GSR, respiration, pulse) -> DTC objective as a sum of one-vs-rest "
    "FMCA trace surrogates (self-supervised) -> probe on frozen EEG features",
    faithfulness="From the abstract and the authors' public notebooks (facts only, own code): the DTC objective as "
    "the sum over modalities of the FMCA trace surrogate between a modality and a projection of the others, with "
    "EMA-tracked uncentred moments (cov_beta 0.5, eps 1e-6), sigmoid encoder features, the projection and probe "
    "layouts, per-iteration SSL step plus frozen-feature classifier step. Not faithful: EEG enters as DE features "
    "(MLP) instead of raw 10 s windows (1D CNN); small CNN peripheral encoders on 1 s raw segments; widths 32/64 "
    "instead of 128/512; GSR/respiration/pulse instead of the authors' DEAP choice EOG/temperature; binary "
    "valence instead of 4 quadrants; whole-trial folds and LOSO instead of their window-level stratified k-fold "
    "(leaky) and 4-subject folds; last epoch evaluated instead of their best test accuracy (module.py). The DTC "
    "sandwich bound stated in losses.py is our derivation, the paper's text was not read.",
    defaults_chosen="Fixed a priori from the authors' code where it gives a value (cov_beta 0.5, eps 1e-6, probe "
    "256-512-256, Adam no weight decay, InfoNCE temperature 0.2 of their CEAP comparison) and for the CPU budget "
    "otherwise (feature 32, hidden 64, conv width 16, lr 1e-3, batch 64, 60 epochs subject-dependent / 20 LOSO); "
    "no test fold was looked at, no validation split.",
)
