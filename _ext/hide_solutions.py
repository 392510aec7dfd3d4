"""sphinx-exercise's ``hide_solutions``, made to work for gated solutions.

sphinx-exercise 1.2.1 honours ``hide_solutions = True`` only in its
``{solution}`` directive: a ``{solution-start}`` then produces nothing, so the
cells up to ``{solution-end}`` stay on the page and the lone end marker stops
the HTML writer ("unknown node type: solution_end_node").  This extension
takes the option over: sphinx-exercise builds every solution as usual
(merging each gated one with its cells), then every solution node is removed
from the page before anything refers to it.
"""
from __future__ import annotations

from sphinx.transforms import SphinxTransform
from sphinx_exercise.nodes import solution_node


class RemoveSolutions(SphinxTransform):
    """Drop every solution (after sphinx-exercise merged the gated ones, priority 10)."""

    default_priority = 500

    def apply(self, **kwargs) -> None:
        if not self.config.qb_hide_solutions:
            return
        for node in list(self.document.findall(solution_node)):
            node.parent.remove(node)


def _take_over(app, config) -> None:
    config.qb_hide_solutions = bool(config.hide_solutions)
    config.hide_solutions = False


def setup(app):
    app.setup_extension("sphinx_exercise")
    app.add_config_value("qb_hide_solutions", False, "env")
    app.connect("config-inited", _take_over)
    app.add_transform(RemoveSolutions)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
