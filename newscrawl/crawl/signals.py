"""newscrawl's own signals (sent through the crawler's signal manager, like Scrapy's).

Components tell one another what happened with these, not through the crawl stats.
"""

#: Sent by ``StorePipeline`` once per article its batch committed (inserted or updated, not an alias):
#: ``item`` (the article), ``spider``. The feeds listen to it (``newscrawl.crawl.feeds``): a feed lists
#: only articles the database holds.
article_committed = object()

#: Sent by ``StorePipeline`` when it starts holding articles not yet written (``pending=True``) and when it has
#: written all it held (``pending=False``). A distributed worker holding unwritten articles is busy.
store_backlog = object()
