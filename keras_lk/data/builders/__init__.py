"""TFDS builders of keras_lk (importing this module registers them with TFDS)."""

from keras_lk.data.builders.voc_sbd import VocSbd

__all__ = ["VocSbd"]
