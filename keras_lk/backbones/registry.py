"""The backbone registry: name → builder and the facts a model or a tool needs.

keras-hub backbones need no entry: `get_backbone` builds any of them (`hub`).

Adding a backbone: write its builder (a function returning a model whose output is
``{"res2", "res3", "res4", "res5"}``, accepting the keyword arguments of
`ResNetBackbone` and refusing those it cannot honour, as `MSCANBackbone` refuses
``output_stride`` 8 and 16), then add one `BackboneInfo` line below.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable

from keras_lk.backbones import hub, mscan, resnet
from keras_lk.registry import Registry

PACKAGED_WEIGHTS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "weights")
"""Where weights that ship with keras_lk live: ``<backbone>_<name>.weights.h5`` beside
``<backbone>_<name>.json``, their provenance (the recipe and run that made them)."""

PACKAGED_WEIGHT_NAMES = ("scenes",)
"""Names of packaged weights: ``"scenes"``, pretrained on the built-in scenes' pretext
task (`keras_lk.experiments.scenes_pretext`), the CPU-scale stand-in for ImageNet."""


@dataclasses.dataclass(frozen=True)
class BackboneInfo:
    """A backbone and its facts.

    Args:
        name: registry name (``"resnet50"``).
        builder: function ``builder(weights=..., input_tensor=..., output_stride=...,
            use_sync_bn=..., **kwargs)`` returning the backbone model.
        normalization: the input normalization its weights expect (a name of
            `keras_lk.data.NORMALIZATIONS`; ``"caffe"`` for the Keras ImageNet ResNets).
        imagenet_weights: whether ``weights="imagenet"`` exists for it.
        packaged_weights: names of `PACKAGED_WEIGHT_NAMES` that ship for it (loaded by
            name: ``weights="scenes"``).
        description: one line for ``--help`` and the README.
    """

    name: str
    builder: Callable
    normalization: str = "caffe"
    imagenet_weights: bool = False
    packaged_weights: tuple = ()
    description: str = ""

    def weights_file(self, name) -> str:
        """The path of this backbone's packaged weights `name` (``"scenes"``)."""
        if name not in self.packaged_weights:
            having = [info.name for info in BACKBONES.entries() if name in info.packaged_weights]
            raise ValueError(
                f"No packaged {name!r} weights exist for backbone {self.name!r}; they exist "
                f"for {having or 'no backbone'}."
            )
        return os.path.join(PACKAGED_WEIGHTS_DIR, f"{self.name}_{name}.weights.h5")

    def build(self, weights=None, **kwargs):
        if isinstance(weights, str) and weights in PACKAGED_WEIGHT_NAMES:
            weights = self.weights_file(weights)
        return self.builder(weights=weights, **kwargs)


def weights_file_sha256(backbone, weights) -> str:
    """The SHA-256 of the file `backbone` loads for `weights`: a packaged name
    (``"scenes"``) or the path of a weights file. Runs record it, so that replacing a
    packaged file makes every run trained from it another configuration."""
    from keras_lk.utils.hashing import file_sha256

    if weights in PACKAGED_WEIGHT_NAMES:
        path = BACKBONES[backbone].weights_file(weights)
    elif isinstance(weights, str) and os.path.isfile(weights):
        path = weights
    else:
        raise ValueError(
            f"`weights` must be a packaged name of {PACKAGED_WEIGHT_NAMES} or the path of a "
            f"weights file to hash, received {weights!r}.")
    return file_sha256(path)


BACKBONES = Registry("backbone", [
    BackboneInfo("resnet10_narrow", resnet.ResNet10Narrow,
                 description="ResNet-10 at 1/4 width (~0.3 M parameters), CPU-minute runs"),
    BackboneInfo("resnet10_local", resnet.ResNet10Local, packaged_weights=("scenes",),
                 description="ResNet-10-narrow with one spatial conv per stage: res-5 sees "
                             "67 px (CPU-scale runs with objects larger than that)"),
    BackboneInfo("resnet18", resnet.ResNet18, description="ResNet-18 v1, small, for tests"),
    BackboneInfo("resnet50", resnet.ResNet50, imagenet_weights=True,
                 description="ResNet-50 v1 (GALD Table 1, GCN Table 6)"),
    BackboneInfo("resnet101", resnet.ResNet101, imagenet_weights=True,
                 description="ResNet-101 v1 (FCRN, GALD Table 1(d))"),
    BackboneInfo("resnet152", resnet.ResNet152, imagenet_weights=True,
                 description="ResNet-152 v1 (GCN Tables 1-5, FCRN)"),
    BackboneInfo("resnet50_gcn", resnet.ResNet50GCN,
                 description="ResNet50-GCN (GCN Appendix A, Table 6); never pretrained"),
    BackboneInfo("mscan_t", mscan.MSCANT, normalization="torch",
                 description="MSCAN-T, SegNeXt-T's encoder (4 stages of MSCA blocks); "
                             "no pretrained weights ship"),
])


def get_backbone(backbone, **kwargs):
    """Builds `backbone`: a name of `BACKBONES`, or a keras-hub backbone (instance,
    ``"keras_hub:<preset>"`` or its stored config, see `keras_lk.backbones.hub`); keyword
    arguments go to its builder."""
    if hub.is_hub_backbone(backbone):
        return hub.build(backbone, **kwargs)
    return BACKBONES[backbone].build(**kwargs)


def backbone_normalization(backbone) -> str:
    """The input normalization `backbone`'s weights expect."""
    if hub.is_hub_backbone(backbone):
        return hub.NORMALIZATION
    return BACKBONES[backbone].normalization
