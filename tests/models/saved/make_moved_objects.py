"""How tests/models/saved/moved_objects_9dd3b0a.keras was made: run at commit 9dd3b0a (the
last one before keras_lk gave every layer and loss one home), as
`python make_moved_objects.py moved_objects_9dd3b0a.keras probe.npy logits.npy`, the two
arrays then saved together as moved_objects_9dd3b0a.npz. The file holds every keras_lk
object that moved, by its old module path; it cannot be made again with later code,
which is why it is kept."""
import sys

import keras
import numpy as np

from keras_lk.backbones import CaffePreprocessing
from keras_lk.layers import GlobalConv
from keras_lk.models.gcn_seg import BilinearUpsampleInitializer
from keras_lk.models.spatial import (
    CropToMatch,
    InterleaveShiftedPasses,
    PadToMultiple,
    ResizeToMatch,
    ShiftImage,
)
from keras_lk.training import PolyDecay, SegmentationSGD
from keras_lk.training.losses import SegmentationCrossEntropy

keras.utils.set_random_seed(0)
images = keras.Input((13, 11, 3), name="images")
x = CaffePreprocessing(name="preprocessing")(images)
padded = PadToMultiple(4, name="pad")(x)
score = GlobalConv(3, kernel_size=3, name="gcn")(padded)
up = keras.layers.Conv2DTranspose(3, 4, strides=2, padding="same", use_bias=False,
    kernel_initializer=BilinearUpsampleInitializer(),
    name="deconv")(score)
back = ResizeToMatch(align_corners=True, name="resize")([up, padded])
shifted = [ShiftImage(a, b, name=f"shift_{a}{b}")(back) for a in range(2) for b in range(2)]
fine = InterleaveShiftedPasses(2, name="interleave")(shifted)
logits = CropToMatch(name="crop")([fine, images])
model = keras.Model(images, logits, name="moved_objects")
model.compile(optimizer=SegmentationSGD(PolyDecay(0.01, 10)),
              loss=SegmentationCrossEntropy(ignore_label=255))
probe = np.random.default_rng(0).uniform(0, 255, (1, 13, 11, 3)).astype("float32")
model.fit(probe, np.zeros((1, 13, 11), "int32"), epochs=1, verbose=0)
model.save(sys.argv[1])
np.save(sys.argv[2], np.stack([probe[0], ]), allow_pickle=False)
np.save(sys.argv[3], keras.ops.convert_to_numpy(model(probe)), allow_pickle=False)
print("saved", model.count_params())
