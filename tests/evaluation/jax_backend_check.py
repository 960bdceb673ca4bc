"""Run by test_jax_backend.py with KERAS_BACKEND=jax: metric, traced evaluate, inference."""

import keras
import numpy as np

from keras_lk.evaluation import (
    SegmentationMetrics,
    confusion_matrix,
    predict_sliding_window,
    scores_from_confusion,
)


def main():
    assert keras.backend.backend() == "jax"
    keras.utils.set_random_seed(0)
    inputs = keras.Input((None, None, 3))
    model = keras.Model(inputs, keras.layers.Conv2D(3, 1)(inputs))
    model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=[SegmentationMetrics(3)])
    rng = np.random.RandomState(0)
    x = rng.normal(size=(4, 8, 8, 3)).astype("float32")
    y = rng.randint(0, 3, size=(4, 8, 8, 1))
    logs = model.evaluate(x, y, batch_size=2, return_dict=True, verbose=0)
    predictions = keras.ops.convert_to_numpy(model(x)).argmax(-1)
    expected = scores_from_confusion(confusion_matrix(y, predictions, 3))
    assert abs(logs["mean_iou"] - expected["mean_iou"]) < 1e-5, (logs, expected)

    metric = SegmentationMetrics(3)
    metric.update_state(y, predictions)
    assert np.array_equal(metric.confusion(), confusion_matrix(y, predictions, 3))
    try:
        metric.update_state(np.array([[[0, 7]]]), np.array([[[0, 1]]]))
    except ValueError as error:
        assert "[7]" in str(error)
    else:
        raise AssertionError("out-of-range label accepted")

    fused = predict_sliding_window(model, x, tile=5, overlap=0.5)
    plain = keras.ops.convert_to_numpy(keras.ops.softmax(model(x)))
    np.testing.assert_allclose(fused, plain, atol=1e-5)
    print("all checks passed")


if __name__ == "__main__":
    main()
