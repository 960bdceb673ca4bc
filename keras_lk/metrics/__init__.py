"""Training metrics: the mean IoU of a segmentation model's logits."""

from keras_lk.metrics.mean_iou import SegmentationMeanIoU

__all__ = ["SegmentationMeanIoU"]
