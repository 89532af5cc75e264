"""Inference at survey scale: stream images through a trained model into tables.

:func:`embed_to_table` embeds a data set, or one part of it, on this machine;
:func:`embed_parts_spark` embeds its parts as Spark tasks and merges their tables.
"""

from astrovader.inference.embed import embed_to_table
from astrovader.inference.spark import embed_parts_spark

__all__ = ["embed_parts_spark", "embed_to_table"]
