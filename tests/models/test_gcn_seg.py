import keras
import numpy as np
import pytest

from keras_lk import models

# GCN Table 2 (GCN vs trivial k x k) and Table 4 (stack of 3x3, k=7): head parameters at
# res-5 (C_in = 2048, 21 classes), kernels only, as the paper counts them.
GCN_TABLE_2 = [(3, 260_000), (5, 434_000), (7, 608_000), (9, 782_000)]
KXK_TABLE_2 = [(3, 387_000), (5, 1_075_000), (7, 2_107_000), (9, 3_484_000)]
STACK_TABLE_4 = [(2048, 75_885_000), (1024, 28_505_000), (210, 4_307_000)]


def _kernel_params(layer):
    return sum(int(np.prod(w.shape)) for w in layer.weights if "kernel" in w.path)


@pytest.fixture(scope="module")
def small_model():
    keras.utils.set_random_seed(0)
    return models.GCNSeg(num_classes=5, k=7, backbone="resnet18")


def test_gcn_seg_odd_sizes_batch_and_finite(small_model):
    x = np.random.RandomState(0).uniform(-1, 1, size=(2, 97, 131, 3)).astype("float32")
    y = small_model(x)
    assert tuple(y.shape) == (2, 97, 131, 5)
    assert y.dtype == "float32"
    assert np.all(np.isfinite(keras.ops.convert_to_numpy(y)))


@pytest.mark.parametrize("head, k", [("gcn", 25), ("conv1x1", 1), ("conv_kxk", 5),
                                     ("stack3x3", 5)])
def test_gcn_seg_every_head_and_k25(head, k):
    kwargs = {"stack_channels": 8} if head == "stack3x3" else {}
    model = models.GCNSeg(num_classes=3, k=k, head=head, backbone="resnet18",
                          boundary_refine=head == "gcn", **kwargs)
    y = keras.ops.convert_to_numpy(model(np.ones((1, 40, 70, 3), "float32")))
    assert y.shape == (1, 40, 70, 3) and np.all(np.isfinite(y))
    assert model.get_layer(f"res5_{head}") is not None
    assert any(layer.name.endswith("_br") for layer in model.layers) == (head == "gcn")


@pytest.mark.parametrize("head, k, m, paper", [
    *[("gcn", k, None, n) for k, n in GCN_TABLE_2],
    *[("conv_kxk", k, None, n) for k, n in KXK_TABLE_2],
    *[("stack3x3", 7, m, n) for m, n in STACK_TABLE_4],
])
def test_gcn_tables_2_and_4_head_parameters_through_builder(head, k, m, paper):
    model = models.GCNSeg(21, k=k, head=head, backbone="resnet50", stack_channels=m,
                          boundary_refine=False, input_shape=(64, 64, 3))
    params = _kernel_params(model.get_layer(f"res5_{head}"))
    assert model.get_layer("conv5_block3_out").output.shape[-1] == 2048
    # The paper rounds to thousands (sometimes down: 260,694 is listed as 260K).
    assert abs(params - paper) < 1000, params


def test_gcn_seg_decoder_structure(small_model):
    deconv = small_model.get_layer("res5_deconv")
    assert deconv.kernel_size == (4, 4) and deconv.strides == (2, 2) and not deconv.use_bias
    names = [layer.name for layer in small_model.layers]
    for name in ["res4_add", "res3_add", "res2_add", "res2_fuse_br", "up1_deconv", "up1_br",
                 "up2_deconv", "up2_br"]:
        assert name in names
    # Bilinear initialisation: a constant map stays constant after x2 upsampling.
    x = np.ones((1, 4, 4, 5), "float32")
    y = keras.ops.convert_to_numpy(deconv(x))
    np.testing.assert_allclose(y[0, 1:-1, 1:-1], 1.0, rtol=1e-6)


@pytest.mark.parametrize("kwargs, match", [({"head": "dense"}, "head"), ({"k": 4}, "k"),
                                           ({"stack_channels": 8}, "stack_channels"),
                                           ({"output_stride": 8}, "output_stride")])
def test_gcn_seg_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        models.GCNSeg(backbone="resnet18", **kwargs)
