"""SMA-STN: segmented movement-attending spatiotemporal network for micro-expression recognition. Files:
network.py (dynamic segmented sparse images, backbone, STMA), module.py (CE + deviation-enhancement loss); the
rank pooling is preprocessing/dynamic_images.py. Reads `frames` (the aligned clip resampled to data.seq_len frames
over data.span) and computes the dynamic images on the fly (vectorised, cheap next to the CNN)."""

from lightning_modules.spec import MethodSpec

METHOD = MethodSpec(
    name="sma_stn",
    task="mer",
    module="lightning_modules.sma_stn.module",
    cls="SMASTNModule",
    inputs=("frames",),
    paper="Liu, Zheng and Zong, SMA-STN: Segmented Movement-Attending Spatiotemporal Network for Micro-Expression "
    "Recognition, arXiv 2010.09342 (2020)",
    summary="segmented dynamic images (approximate rank pooling) -> CNN -> spatial non-local + segment attention; "
    "CE + deviation-enhancement loss",
    faithfulness="Built from the abstract (the full text was not available): dynamic images by approximate rank "
    "pooling over equal clip segments plus a global one (the paper's sparse sampling protocol is unknown), a small "
    "CNN from scratch as backbone (no pretrained weights), STMA as one non-local block plus softmax segment weights, "
    "and DE-Loss as feature stability when the movement is made subtler (attenuated in pixel noise) relative to "
    "between-class distance: all our choices (network.py, module.py). Results are on the suite's synthetic "
    "stand-ins only.",
    defaults_chosen="Fixed a priori (no test-fold selection): 3 segments + global over the onset->offset span at "
    "seq_len 12, grey 32 px input (64 px scored .352 against .371 at 32 px on 2 inner-validation splits of "
    "training subjects, at 4x the compute), width 16, depth 3, dropout 0.3, DE attenuation 0.5, balanced CE, Adam "
    "lr 3e-3 cosine, 20 epochs. The DE weight, 1.0, was chosen on inner validation on training subjects "
    "(candidates 0, 0.1, 1.0 declared before any run; held-out UF1 .311 / .305 / .375, 5 splits at 32 px; "
    "benchmarks/results/sma_stn.json inner_selection; experiments/_defaults/methods/sma_stn.yaml). The frames come "
    "from the magnify stage (data.frames_from: magnify), chosen the same way (candidates faces / magnify and the "
    "rule declared before the runs; held-out UF1 .372 / .434 over the 5 splits).",
)
