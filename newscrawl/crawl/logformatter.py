"""Log lines for dropped items: the reason on one line, not the whole article."""

from __future__ import annotations

import logging

from scrapy.logformatter import LogFormatter


class NewscrawlLogFormatter(LogFormatter):
    def dropped(self, item, exception, response, spider=None):
        # A republished duplicate is routine: INFO, with the reason (which names both URLs).
        return {"level": logging.INFO, "msg": "Dropped: %(exception)s", "args": {"exception": exception}}
