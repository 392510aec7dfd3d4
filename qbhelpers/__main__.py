"""``python -m qbhelpers``: see :mod:`qbhelpers.cli`."""
import sys

from .cli import main

sys.exit(main())
