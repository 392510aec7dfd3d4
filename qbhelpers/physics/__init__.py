"""The physics layer: the battery's operators, charger states, truncation and ergotropy.

Nothing here integrates a master equation or knows about engines, results or
the book; everything above (engines, results, public functions) imports from here.
"""
