"""The floor: a bare Scrapy spider that requests exactly the pages `lopinion` requests, and does nothing else.

It follows the listing's pagination, the L'Opinion links of the listing and
of every page's ticker (whatever form they take — a slug, a query, the
production host — each asked at the mirror as ``/fr/lopinion/<id>``, as
`lopinion` does), and each article's read-at-source link, extracting only
those links (with plain CSS/XPath selectors and no fallbacks), and yields no
items.
"""

from __future__ import annotations

import re

import scrapy

ARTICLE = re.compile(r"/fr/lopinion/(\d+)")


class BareSpider(scrapy.Spider):
    name = "bare"

    def __init__(self, start_url: str, **kwargs):
        super().__init__(**kwargs)
        self.start_url = start_url
        self.origin = re.match(r"https?://[^/]+", start_url).group(0)

    async def start(self):
        yield scrapy.Request(self.start_url, callback=self.parse_listing)

    def _articles(self, response, xpath):
        for href in response.xpath(xpath).getall():
            m = ARTICLE.search(href)
            if m:
                yield scrapy.Request(f"{self.origin}/fr/lopinion/{m.group(1)}", callback=self.parse_article)

    def parse_listing(self, response):
        yield from self._articles(response, "//a/@href")
        next_page = response.xpath("//a[@rel='next']/@href").get()
        if next_page:
            yield response.follow(next_page, callback=self.parse_listing)

    def parse_article(self, response):
        yield from self._articles(response, "//*[contains(@class,'ticker')]//a/@href")
        source = response.xpath("//a[contains(., 'depuis sa source')]/@href").get()
        if source:
            yield response.follow(source, callback=self.parse_publisher, dont_filter=True)

    def parse_publisher(self, response):
        pass
