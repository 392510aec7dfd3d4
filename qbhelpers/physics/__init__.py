"""Physics kernels of qbhelpers that depend only on numpy and scipy (the lowest layer)."""
