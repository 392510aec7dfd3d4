"""An author–year bibliography style, to match the author–year citations.

The book cites with ``bibtex_reference_style: author_year`` ("Carrasco et al.
(2022)"); pybtex's built-in styles label the list entries otherwise ("[CMHAB22]"
or "[1]").  This registers a formatting style ``authoryear``, pybtex's
``unsrt`` entries sorted by author and year and labelled "Carrasco et al.,
2022", and makes it the default (``bibtex_default_style: authoryear``).
"""
from pybtex.plugin import register_plugin
from pybtex.style.formatting.unsrt import Style as UnsrtStyle
from pybtex.style.labels import BaseLabelStyle


def _surname(person) -> str:
    return " ".join(person.prelast_names + person.last_names)


class AuthorYearLabelStyle(BaseLabelStyle):
    """Labels "Tavis and Cummings, 1968", "Carrasco et al., 2022" (a, b, … on repeats)."""

    def format_labels(self, sorted_entries):
        labels = []
        for entry in sorted_entries:
            persons = entry.persons.get("author") or entry.persons.get("editor") or []
            names = [_surname(p) for p in persons]
            if not names:
                who = entry.fields.get("title", entry.key)
            elif len(names) == 1:
                who = names[0]
            elif len(names) == 2:
                who = f"{names[0]} and {names[1]}"
            else:
                who = f"{names[0]} et al."
            labels.append(f"{who}, {entry.fields.get('year', 'n.d.')}")
        plain = list(labels)                        # disambiguate equal labels: 2019a, 2019b
        for i, label in enumerate(plain):
            same = [j for j, other in enumerate(plain) if other == label]
            if len(same) > 1:
                labels[i] = label + "abcdefghijklmnopqrstuvwxyz"[same.index(i)]
        yield from labels


class AuthorYearStyle(UnsrtStyle):
    default_label_style = AuthorYearLabelStyle
    default_sorting_style = "author_year_title"


def setup(app):
    register_plugin("pybtex.style.formatting", "authoryear", AuthorYearStyle)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
