"""`.keras` files saved by earlier versions load: Keras finds keras_lk's objects by
their registered names, whatever module holds them now."""

import pathlib

import keras
import numpy as np

from keras_lk import layers, losses, training

SAVED = pathlib.Path(__file__).parent / "saved"


def test_a_file_saved_before_the_one_home_layout_loads_and_predicts_the_same():
    """Saved at commit 9dd3b0a (`saved/make_moved_objects.py`), when CaffePreprocessing
    lived in backbones, the shape layers and BilinearUpsampleInitializer in models and
    SegmentationCrossEntropy in training."""
    model = keras.saving.load_model(SAVED / "moved_objects_9dd3b0a.keras", safe_mode=True)
    arrays = np.load(SAVED / "moved_objects_9dd3b0a.npz")
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model(arrays["probe"])),
                               arrays["logits"], rtol=1e-6, atol=1e-6)
    kinds = {type(layer) for layer in model.layers}
    assert {layers.CaffePreprocessing, layers.PadToMultiple, layers.GlobalConv,
            layers.ResizeToMatch, layers.ShiftImage, layers.InterleaveShiftedPasses,
            layers.CropToMatch} <= kinds
    deconv = model.get_layer("deconv")
    assert isinstance(deconv.kernel_initializer, layers.BilinearUpsampleInitializer)
    assert isinstance(model.loss, losses.SegmentationCrossEntropy)
    assert isinstance(model.optimizer, training.SegmentationSGD)
    assert isinstance(model.optimizer._learning_rate, training.PolyDecay)  # the schedule
