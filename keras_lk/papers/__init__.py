"""Numbers transcribed from the papers, as data: each keyed by its table and row.

Results reproduced by keras_lk are printed beside these, never in place of them.
"""

from keras_lk.papers import gcn

__all__ = ["gcn"]
