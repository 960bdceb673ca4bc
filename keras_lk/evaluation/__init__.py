"""keras_lk.evaluation: segmentation metrics, test-time inference, CRF and export.

- `SegmentationMetrics` (a streaming `keras.metrics.Metric`), `confusion_matrix` and
  `scores_from_confusion`: mean IoU, per-class IoU, pixel accuracy, mean class accuracy;
- `boundary_region`, `boundary_internal_accuracy` / `BoundaryInternalAccuracy`: GCN
  Table 5's boundary band and the accuracy inside and outside it;
- `predict_multiscale` (scales + flip) and `predict_sliding_window` (tiles + overlap),
  in `tta` (test-time augmentation);
- `evaluate_segmentation`: a model's scores on a split (the CLI's and recipes' evaluation);
- `dense_crf`: fully connected CRF (optional extra `keras_lk[crf]`) with DeepLab's VOC
  parameters `CRF_VOC`; `search_crf_parameters` chooses them on validation images;
- `save_label_png`, `overlay`: predicted label maps as palette PNGs and pictures (the
  colours are `keras_lk.data.palettes`');
- `theoretical_receptive_field`, `valid_receptive_field`, `plot_valid_receptive_field`:
  theoretical and valid receptive fields (GCN Sec. 3.1, Fig. 3).

Example:
>>> import keras_lk.evaluation as ke
>>> metric = ke.SegmentationMetrics(num_classes=21)
>>> probs = ke.predict_multiscale(model, images, scales=(0.75, 1.0, 1.25), flip=True)
>>> metric.update_state(labels, probs)
>>> metric.scores()["iou"]
"""

from keras_lk._moved import moved_attributes
from keras_lk.evaluation.boundary import (
    BoundaryInternalAccuracy,
    boundary_internal_accuracy,
    boundary_region,
)
from keras_lk.evaluation.confusion import (
    SegmentationMetrics,
    confusion_matrix,
    scores_from_confusion,
)
from keras_lk.evaluation.crf import (
    CRF_VOC,
    DEFAULT_CRF_GRID,
    CRFSearchResult,
    dense_crf,
    search_crf_parameters,
)
from keras_lk.evaluation.evaluate import evaluate_segmentation, predict_labels
from keras_lk.evaluation.masks import overlay, save_label_png
from keras_lk.evaluation.receptive_field import (
    ReceptiveField,
    ValidReceptiveField,
    plot_valid_receptive_field,
    theoretical_receptive_field,
    valid_receptive_field,
)
from keras_lk.evaluation.tta import predict_multiscale, predict_sliding_window

__all__ = [
    "CRF_VOC",
    "DEFAULT_CRF_GRID",
    "BoundaryInternalAccuracy",
    "CRFSearchResult",
    "ReceptiveField",
    "SegmentationMetrics",
    "ValidReceptiveField",
    "boundary_internal_accuracy",
    "boundary_region",
    "confusion_matrix",
    "dense_crf",
    "evaluate_segmentation",
    "overlay",
    "plot_valid_receptive_field",
    "predict_labels",
    "predict_multiscale",
    "predict_sliding_window",
    "save_label_png",
    "scores_from_confusion",
    "search_crf_parameters",
    "theoretical_receptive_field",
    "valid_receptive_field",
]

__getattr__ = moved_attributes(__name__)
