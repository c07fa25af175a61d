"""The shared queue's entries are data: requests survive the trip, and no entry can make a worker run code."""

from __future__ import annotations

import base64
import json
import pickle

import pytest
from scrapy.http import Request
from scrapy.utils.request import request_from_dict

from newscrawl.crawl import redisqueue
from newscrawl.extract.assemble import MaghressPage, PublisherPage
from newscrawl.spiders.maghress import MaghressSpider


def test_a_publisher_request_with_its_pages_makes_the_round_trip():
    spider = MaghressSpider()
    read = MaghressPage(url="https://www.maghress.com/fr/lopinion/5010001", maghress_id=5010001, source="lopinion",
                        source_name="L'Opinion", title="Titre", body=("Un.", "Deux."), dates=("26 - 01 - 2021",),
                        via={"title": "span.articletitle"})
    plain = PublisherPage(extractor="lopinion", page_url="https://www.lopinion.ma/a_a1.html", body=("Corps.",))
    request = Request("https://www.lopinion.ma/a_a1.html", callback=spider.parse_publisher,
                      errback=spider.publisher_failed, headers={"Accept": "text/html"}, dont_filter=True,
                      cb_kwargs={"maghress_page": read, "publisher_key": "lopinion.ma/a_a1", "plain": plain,
                                 "backfill": ("lopinion", 5010001)},
                      meta={"newscrawl_page": "publisher", "redirect_urls": ["http://x.example/"]})
    encoded = redisqueue.dumps(request.to_dict(spider=spider))
    json.loads(encoded)  # plain JSON
    again = request_from_dict(redisqueue.loads(encoded.encode()), spider=spider)
    assert again.cb_kwargs == request.cb_kwargs and again.meta == request.meta
    assert again.callback == spider.parse_publisher and again.headers == request.headers


def test_a_pickle_written_into_the_queue_is_never_unpickled():
    class Boom:
        def __reduce__(self):
            return (print, ("code ran",))

    with pytest.raises(ValueError):
        redisqueue.loads(pickle.dumps(Boom()))


@pytest.mark.parametrize("entry", [
    {"url": "http://x.example/", "__newscrawl__": "record", "type": "Popen", "value": {"args": "id"}},
    {"url": "http://x.example/", "cb_kwargs": {"__newscrawl__": "call", "value": "os.system"}},
])
def test_an_entry_naming_anything_but_data_is_refused(entry):
    with pytest.raises(ValueError):
        redisqueue.loads(json.dumps(entry))


def test_a_request_class_of_another_module_is_ignored():
    entry = {"url": "http://x.example/", "_class": "subprocess.Popen", "method": "GET", "headers": {},
             "body": {"__newscrawl__": "bytes", "value": base64.b64encode(b"").decode()}}
    loaded = redisqueue.loads(json.dumps(entry))
    assert "_class" not in loaded and type(request_from_dict(loaded)) is Request


def test_anything_else_is_refused_when_written():
    with pytest.raises(TypeError):
        redisqueue.dumps({"url": "http://x.example/", "meta": {"x": object()}})
