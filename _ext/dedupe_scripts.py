"""Drop repeated <script> entries from every page.

sphinx-thebe adds its inline configuration while the sources are read; Sphinx
7.4 then lists it twice (once with filename None, once with ''), and the second
copy throws "Identifier 'THEBE_JS_URL' has already been declared" in the
browser.  Keep the first of each (filename, attributes).
"""


def _dedupe(app, pagename, templatename, context, doctree):
    files = context.get("script_files")
    if not files:
        return
    seen, kept = set(), []
    for js in files:
        key = (getattr(js, "filename", js) or "", tuple(sorted(getattr(js, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            kept.append(js)
    context["script_files"] = kept


def setup(app):
    app.connect("html-page-context", _dedupe, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
