"""Operations around the crawl: the ``newscrawl`` command, the scrapyd scheduler, the quality gate and the
measurement on real pages."""
