"""Numbers transcribed from the papers, as data: each keyed by its table and row.

Results reproduced by keras_lk are printed beside these, never in place of them.
Each module lists the paper's tables in `TABLES` (printed name -> what it reports).
"""

from keras_lk.papers import fcrn, gald, gcn, segnext

__all__ = ["fcrn", "gald", "gcn", "segnext"]
