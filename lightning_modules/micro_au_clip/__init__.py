"""Micro-AU CLIP: micro-AU detection by local semantic independence and global semantic dependency modelling,
and emotion-label-free micro-expression recognition from the detected AUs.

Files: network.py (CLIP patch tokens, Patch Token Attention, Global Dependency Attention), regions.py (AU regions
from the 68 landmarks), losses.py (BCE, Global Dependency Loss, MiAUCL), au_descriptions.yaml (the AU texts),
au_to_emotion.py (FACS/EMFACS rules), module.py (the LightningModule), MicroAU-ViT-T-16.json (the small CLIP
vision config trained from scratch when no checkpoint is given).
"""

from lightning_modules.spec import MethodSpec

METHOD = MethodSpec(
    name="micro_au_clip",
    task="au",
    module="lightning_modules.micro_au_clip.module",
    cls="MicroAUCLIPModule",
    inputs=("apex", "onset", "landmarks"),
    paper="Micro-AU CLIP: fine-grained micro-AU detection with local independence and global dependency, "
    "arXiv 2603.16302",
    summary="CLIP patch tokens -> per-AU Patch Token Attention -> Global Dependency Attention; GDLoss + MiAUCL; "
    "label-free emotions from AUs by FACS rules",
    faithfulness="Built from the abstract (the full text was not available): the AU regions (landmark anchors), "
    "PTA/GDA sizes, the two GDLoss readings, the MiAUCL form, the AU texts and the FACS rules of label-free MER "
    "are our choices (module docstrings, model.* knobs). No CLIP weights can be loaded here, so by default a "
    "small ViT is trained from scratch and the text side is all-MiniLM-L6-v2 projected by a learned linear map: "
    "the CLIP prior the paper builds on is absent unless model.clip.pretrained names a local checkpoint "
    "(model.clip.arch=ViT-B-32 model.clip.pretrained=FILE is the paper's setting). The small ViT reads 64 px (a "
    "4 x 4 patch grid; chosen on inner validation). micro_au_clip-difference, the default run's experiment, feeds "
    "the onset->apex motion image instead of the apex frame (not the paper's input): on the stand-ins one frame "
    "holds no AU evidence without its neutral face (module.py says why and how it was measured).",
    defaults_chosen="Inner validation on training subjects: the small ViT's 64 px input over 64/96/128 px (valid mean "
    "AU F1 0.339/0.337/0.259; difference input, CASME II stand-in at amplitude_scale 0.4, 5 subject folds); max_epochs "
    "20 fixed a priori from inner-validation curves (AU F1 plateau by epoch 12-17 of 40, no rise after 20). Fixed a "
    "priori: AU region anchors from the FACS descriptions (landmark-anchored, as JAA-Net), emotion rules from "
    "EMFACS-7. Not recorded (no selection on record): AdamW lr 5e-4 and weight decay 0.01, batch 16, region radius, "
    "PTA/GDA sizes, loss weights and temperatures.",
)
