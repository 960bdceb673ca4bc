"""`ContextHead`: the large-kernel line's heads in GCNSeg's place, merged for export."""

import keras
import numpy as np
import pytest

from keras_lk import layers, models
from keras_lk.layers.context_head import msca_strips
from keras_lk.testing import randomise_batch_norms


@pytest.mark.parametrize("context", layers.CONTEXTS)
def test_each_context_maps_the_channels_to_the_classes(context):
    head = layers.ContextHead(5, context=context, kernel_size=7)
    x = np.random.default_rng(0).normal(size=(2, 9, 11, 6)).astype("float32")
    assert tuple(head(x).shape) == (2, 9, 11, 5) == head.compute_output_shape(x.shape)
    assert type(head.block).__name__ == {"msca": "StripConvAttention", "msca_block": "MSCABlock",
                                         "replk": "ReparamLargeKernelConv",
                                         "dilated_reparam": "DilatedReparamConv"}[context]
    clone = layers.ContextHead.from_config(head.get_config())
    clone.build(x.shape)
    clone.set_weights(head.get_weights())
    np.testing.assert_allclose(clone(x), head(x), rtol=1e-6)


def test_msca_strips_are_segnexts_scaled_to_the_kernel():
    assert msca_strips(21) == (7, 11, 21)
    assert msca_strips(15) == (5, 7, 15)
    assert msca_strips(7) == (3, 3, 7)
    head = layers.ContextHead(3, context="msca", kernel_size=15)
    assert head.block.strip_kernel_sizes == (5, 7, 15)


@pytest.mark.parametrize("context, kernel_size", [("replk", 9), ("replk", 5),
                                                  ("dilated_reparam", 7)])
def test_a_merged_head_computes_the_same_and_saves_merged(context, kernel_size, tmp_path):
    keras.utils.set_random_seed(0)
    inputs = keras.Input((12, 12, 4))
    model = keras.Model(inputs, layers.ContextHead(3, context=context,
                                                   kernel_size=kernel_size)(inputs))
    head = model.layers[-1]
    randomise_batch_norms(head)
    x = np.random.default_rng(1).normal(size=(2, 12, 12, 4)).astype("float32")
    before = np.asarray(model(x, training=False))
    head.merge()
    assert head.merged and head.get_config()["merged"] is True
    np.testing.assert_allclose(model(x, training=False), before, rtol=1e-5, atol=1e-5)
    path = str(tmp_path / "merged.keras")
    model.save(path)
    reloaded = keras.saving.load_model(path, safe_mode=True)
    assert reloaded.layers[-1].merged
    np.testing.assert_allclose(reloaded(x, training=False), before, rtol=1e-5, atol=1e-5)


def test_bad_arguments_name_what_was_expected():
    with pytest.raises(ValueError, match="`context` must be one of"):
        layers.ContextHead(3, context="gcn")
    with pytest.raises(ValueError, match="`filters`"):
        layers.ContextHead(0)
    with pytest.raises(ValueError, match="`merged=True` applies to the re-parameterised"):
        layers.ContextHead(3, context="msca", merged=True)
    with pytest.raises(ValueError, match="nothing to merge"):
        layers.ContextHead(3, context="msca", kernel_size=7).merge()


@pytest.mark.parametrize("head", layers.CONTEXTS)
def test_gcnseg_takes_each_context_head(head):
    model = models.GCNSeg(3, k=7, head=head, backbone="resnet10_narrow",
                          input_shape=(64, 64, 3))
    assert tuple(model(np.zeros((1, 64, 64, 3), "float32")).shape) == (1, 64, 64, 3)
    assert sum(isinstance(layer, layers.ContextHead) for layer in model.layers) == 4
