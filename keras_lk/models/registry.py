"""The model registry: family name → model class.

Each family is a `SegmentationModel` subclass; its constructor's arguments are its
options (`model_options` of `keras_lk.training.TrainConfig`, ``--model-option`` of
``keras-lk train``), documented by the class docstring's ``Args:``. Adding a family is
its file plus one `ModelInfo` line below.
"""

from __future__ import annotations

import dataclasses
import inspect

from keras_lk.models.fcrn import FCRN
from keras_lk.models.gald_net import GALDNet
from keras_lk.models.gcn_seg import GCNSeg
from keras_lk.models.segnext import SegNeXt
from keras_lk.registry import Registry
from keras_lk.utils.docstrings import parse_args

# Arguments the training engine sets itself (from the dataset, the backbone flags and
# the strategy); they are not model options.
ENGINE_ARGUMENTS = ("num_classes", "class_names", "palette", "ignore_label", "backbone",
                    "backbone_weights", "use_sync_bn", "input_shape", "name")


@dataclasses.dataclass(frozen=True)
class ModelInfo:
    """A model family.

    Args:
        name: registry name (``"gcn"``).
        model_class: the `SegmentationModel` subclass.
        description: one line for ``--help``.
    """

    name: str
    model_class: type
    description: str = ""

    def options(self) -> dict:
        """``{option: default}`` of the family's constructor, without `ENGINE_ARGUMENTS`."""
        parameters = inspect.signature(self.model_class.__init__).parameters
        return {
            name: p.default for name, p in parameters.items()
            if name not in ("self", *ENGINE_ARGUMENTS)
            and p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
        }

    def option_help(self) -> dict:
        """``{option: description}`` from the class docstring's ``Args:``."""
        docs = parse_args(self.model_class.__doc__)
        return {name: docs.get(name, "") for name in self.options()}

    def check_options(self, options: dict) -> dict:
        """`options` as a dict, or a one-line ``ValueError`` naming the unknown ones."""
        known = self.options()
        unknown = sorted(set(options) - set(known))
        if unknown:
            raise ValueError(
                f"unknown option(s) {unknown} of model {self.name!r}; its options are "
                f"{sorted(known)}."
            )
        return dict(options)

    def build(self, **kwargs):
        return self.model_class(**kwargs)


MODELS = Registry("model", [
    ModelInfo("gcn", GCNSeg, "GCN (Peng et al. 2017): GCNSeg, Fig. 2A, Tables 1-5"),
    ModelInfo("gald", GALDNet, "GALD (Li et al. 2019): GALD-Net, Fig. 2, Table 1"),
    ModelInfo("fcrn", FCRN, "FCRN (Wu et al. 2016): dilated ResNet FCN, Tables 1-4"),
    ModelInfo("segnext", SegNeXt, "SegNeXt (Guo et al. 2022): MSCAN + light Hamburger head"),
])
