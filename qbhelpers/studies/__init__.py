"""Studies built on the public verbs: grids of first maxima with a disk cache
(:mod:`.sweep`, :mod:`.cache`), where to run them (:func:`executor`: this
process, local worker processes or a Dask cluster), and power-law fits
against N (:mod:`.scaling`)."""
from .executors import executor

__all__ = ["executor"]
