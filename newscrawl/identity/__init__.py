"""Identity: which article a page is, and when two articles are one story.

``keys`` (the article key, the publisher key, every key of one article) and
``similarity`` (near-identical bodies). Plain functions and dataclasses: no Scrapy, no database.
The spider, the deduplication pipeline and the store all ask here.
"""
