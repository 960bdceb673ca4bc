"""Input normalization of RGB images for a backbone's pretrained weights.

One formula per normalization, used by the data pipelines (`keras_lk.data.normalize_image`,
inside `tf.data`) and by the model-side layer `CaffePreprocessing` alike.
"""

import keras
import numpy as np

# Caffe-style ImageNet mean, BGR order (as `keras.applications.resnet.preprocess_input`).
CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)
# torchvision's ImageNet mean and std of RGB in [0, 1].
TORCH_MEAN = (0.485, 0.456, 0.406)
TORCH_STD = (0.229, 0.224, 0.225)
NORMALIZATIONS = ("caffe", "torch", "tf", "zero_one", "none")


def _constant(values, like):
    """`values` as a NumPy array of `like`'s dtype (TensorFlow, JAX or NumPy)."""
    return np.asarray(values, dtype=getattr(like.dtype, "as_numpy_dtype", like.dtype))


def normalize_image(image, normalization="caffe"):
    """Normalises float RGB images for a backbone.

    Args:
        image: float RGB images (…×H×W×3, values in [0, 255]): a tensor of any Keras
            backend, a TensorFlow tensor in a `tf.data` pipeline, or a NumPy array.
        normalization: `"caffe"`: RGB→BGR and subtract the ImageNet BGR mean
            (`keras.applications.resnet.preprocess_input`, the Keras ResNet weights);
            `"torch"`: scale to [0, 1], subtract mean and divide by std per channel
            (torchvision weights); `"tf"`: scale to [-1, 1]; `"zero_one"`: scale to
            [0, 1]; `"none"`: unchanged.

    Returns:
        Images of the same shape, type and dtype. In every mode but `"none"` and
        `"zero_one"`, the mean pixel maps to ~0, so padding normalised images with 0 pads
        with the mean.
    """
    if normalization not in NORMALIZATIONS:
        raise ValueError(
            f"`normalization` must be one of {NORMALIZATIONS}, received {normalization!r}."
        )
    dtype = keras.backend.standardize_dtype(image.dtype)
    if "float" not in dtype:
        raise TypeError(f"`image` must be a float tensor (cast it first), received {dtype}.")
    if normalization == "caffe":
        return image[..., ::-1] - _constant(CAFFE_MEAN_BGR, image)
    if normalization == "torch":
        return (image / 255.0 - _constant(TORCH_MEAN, image)) / _constant(TORCH_STD, image)
    if normalization == "tf":
        return image / 127.5 - 1.0
    if normalization == "zero_one":
        return image / 255.0
    return image


def preprocess_input(x, dtype="float32"):
    """Caffe-style preprocessing matching the Keras ImageNet ResNet weights.

    Args:
        x: RGB images with values in [0, 255], channels last (NumPy or tensor).
        dtype: the result's dtype.

    Returns:
        BGR images with the ImageNet mean subtracted.
    """
    return normalize_image(keras.ops.cast(x, dtype), "caffe")


@keras.saving.register_keras_serializable(package="keras_lk")
class CaffePreprocessing(keras.layers.Layer):
    """RGB [0, 255] → BGR minus the ImageNet mean, as the Keras ResNet weights expect.

    Call arguments:
        inputs: RGB images ``(batch, height, width, 3)`` with values in [0, 255].

    Returns:
        Tensor of the same shape, BGR, mean subtracted.

    Example:
    >>> layer = keras_lk.layers.CaffePreprocessing()
    >>> y = layer(np.full((1, 2, 2, 3), 128.0))

    Reference:
        Keras `keras.applications.resnet.preprocess_input` (mode "caffe").
    """

    def call(self, inputs):
        return preprocess_input(inputs, self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return input_shape
