"""SegNeXt (Guo et al., NeurIPS 2022), the official README's ADE20K table: SegNeXt-T.

The README's table ("Results", "ADE20K"; `keras_lk.papers.segnext.README_ADE20K`)
reports single-scale and multi-scale + flip mIoU on ADE20K val (150 classes) of
SegNeXt-T/S/B/L, 160k iterations at 512² from ImageNet-1K weights. keras_lk builds
MSCAN-T only, so the table has one row: SegNeXt-T against the single-scale 41.1.

    python recipes/segnext/table_ade20k.py --data-dir ~/tfds --manual-dir ~/archives
    python recipes/segnext/table_ade20k.py --smoke    # CI: tiny archive, 2 steps

The setting is the official config ``segnext.tiny.512x512.ade.160k.py`` as
`keras_lk.experiments.settings.SEGNEXT_ADE20K` (the `ade20k` builder reads
``ADEChallengeData2016.zip`` from ``--manual-dir``). What the engine follows: the model
(MSCAN-T, the light Hamburger head, SyncBN), the loss (cross-entropy, 0 → 255 ignored),
AdamW (lr 6e-5, betas 0.9/0.999, weight decay 0.01 decoupled, none on MSCAN's norms,
head lr ×10), poly power 1.0 after a 1,500-iteration linear warm-up from 1e-6, 160k
iterations, batch 16, 512² crops, random scale 0.5-2.0, flip, padding with the mean
pixel and 255.

Ambiguities and choices:
- Batch 16: the paper's figure; the config sets 8 images per GPU and the README trains
  on 8 GPUs, without saying how many this config used.
- No ImageNet-1K weights of MSCAN-T ship with keras_lk (the official ones are a PyTorch
  checkpoint and keras_lk has no converter): the backbone starts from the official
  random initialisation (``MSCAN.init_weights``), so expect far less than 41.1. With a
  converted ``.weights.h5``, set ``backbone_weights`` in the scale to its path.
- Random scale: mmseg rescales each image to 0.5-2.0 × (2048, 512) keeping its aspect
  (short side 512·r for most ADE20K images); the engine scales the image's own size by
  r, the same only for images whose short side is 512.
- Not followed (no such augmentation in the engine): RandomCrop's ``cat_max_ratio=0.75``
  (re-drawing a crop up to 10 times while one class covers more than 75% of it) and
  ``PhotoMetricDistortion`` (brightness, contrast, saturation, hue).
- Test: mmseg resizes each val image to fit (2048, 512), then to a multiple of 32, and
  resizes the logits back; the engine predicts at the original size (one scale, no
  flip). The README's multi-scale + flip figure (42.2) has no row.
- The README differs between revisions: commit 0cedc7d prints 41.4 for SegNeXt-T ADE20K
  single scale; `keras_lk.papers.segnext` keeps commit c87bcae's 41.1.
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from keras_lk.experiments import Row, Table, main
from keras_lk.experiments.settings import SEGNEXT_ADE20K
from keras_lk.papers import segnext

ROWS = (
    Row("SegNeXt-T", {}, paper={"miou": segnext.README_ADE20K["SegNeXt-T"]["miou_ss"]},
        scales=("full",),
        note="paper figure: official README, single scale, from ImageNet-1K weights; "
             "ours from a random initialisation"),
)

TABLE = Table(
    paper="segnext", table="README ADE20K", title="SegNeXt-T on ADE20K val (single scale)",
    rows=ROWS, scales={"full": SEGNEXT_ADE20K},
    notes="The backbone starts from a random initialisation (no ImageNet-1K MSCAN-T weights "
          "in keras_lk); no cat_max_ratio crops or photometric distortion; val images at "
          "their original size.",
)

if __name__ == "__main__":
    sys.exit(main(TABLE, description=__doc__))
