"""Extraction: from a downloaded page to an ``Article``.

``sites/`` (one parser per site, pure functions of a page), ``normalize``
(plain functions for dates, text, URLs), ``encoding`` (pages in the wrong
charset), ``assemble`` (the item loader: normalisation and the merge of the
Maghress page and the publisher's).
"""
