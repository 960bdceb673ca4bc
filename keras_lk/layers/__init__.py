
from keras_lk.layers.global_aggregation import ASPP  # noqa: E402
from keras_lk.layers.global_aggregation import CGNL  # noqa: E402
from keras_lk.layers.global_aggregation import NonLocal  # noqa: E402
from keras_lk.layers.global_aggregation import PyramidPooling  # noqa: E402

__all__ = [*globals().get("__all__", []), "ASPP", "CGNL", "NonLocal", "PyramidPooling"]
