"""Spiders for tests only (``-s SPIDER_MODULES=newscrawl.spiders,tests.support.spiders``)."""
