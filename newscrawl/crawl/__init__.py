"""The Scrapy runtime of the crawl: pipelines, middlewares, duplicate filters, extensions, rendering, the
distributed scheduler, add-ons, the DNS resolver and the host policy they apply, the back-catalogue walk."""
