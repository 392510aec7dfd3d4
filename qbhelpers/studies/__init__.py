"""Studies built on the public verbs: grids of first maxima with a disk cache,
and power-law fits against N."""
