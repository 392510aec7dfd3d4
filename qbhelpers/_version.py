"""The package's version, defined here and nowhere else."""
__version__ = "0.2.0"
