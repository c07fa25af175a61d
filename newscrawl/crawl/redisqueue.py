"""The shared queue's serializer (``SCHEDULER_SERIALIZER``): data only, never code.

scrapy-redis pickles queued requests by default, and unpickling runs whatever
the pickle says: anyone who can write to the crawl's Redis would run code on
every worker. Here a request (``Request.to_dict``) is JSON, with four tagged
forms for what JSON lacks: bytes, tuples, dicts with non-string keys, and the
two page records the spider carries between callbacks (``MaghressPage``,
``PublisherPage``), rebuilt field by field. Anything else is refused when
written; when read, an unknown tag is an error and a request class other than
Scrapy's own is ignored (the plain ``Request`` stands): a queue entry can
name data, never a function or a class to call.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import logging
from typing import Any

logger = logging.getLogger(__name__)

_TAG = "__newscrawl__"
#: Request classes a queue entry may name (``_class``): Scrapy's own.
ALLOWED_REQUEST_CLASSES = frozenset({"scrapy.http.request.Request", "scrapy.Request", "scrapy.http.Request",
                                     "scrapy.http.request.form.FormRequest", "scrapy.http.request.json_request.JsonRequest"})


def _records() -> dict[str, type]:
    from newscrawl.extract.assemble import MaghressPage, PublisherPage

    return {"MaghressPage": MaghressPage, "PublisherPage": PublisherPage}


def _encode(value: Any) -> Any:
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, bytes):
        return {_TAG: "bytes", "value": base64.b64encode(value).decode("ascii")}
    if isinstance(value, tuple):
        return {_TAG: "tuple", "value": [_encode(v) for v in value]}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        if all(isinstance(k, str) for k in value) and _TAG not in value:
            return {k: _encode(v) for k, v in value.items()}
        return {_TAG: "dict", "value": [[_encode(k), _encode(v)] for k, v in value.items()]}
    name = type(value).__name__
    if dataclasses.is_dataclass(value) and _records().get(name) is type(value):
        return {_TAG: "record", "type": name,
                "value": {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}}
    raise TypeError(f"a queued request may carry plain data only, not {type(value).__qualname__}")


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    tag = value.get(_TAG)
    if tag is None:
        return {k: _decode(v) for k, v in value.items()}
    if tag == "bytes":
        return base64.b64decode(value["value"], validate=True)
    if tag == "tuple":
        return tuple(_decode(v) for v in value["value"])
    if tag == "dict":
        return {_hashable(_decode(k)): _decode(v) for k, v in value["value"]}
    if tag == "record":
        record = _records().get(value.get("type"))
        if record is None:
            raise ValueError(f"unknown record type in a queued request: {value.get('type')!r}")
        names = {f.name for f in dataclasses.fields(record)}
        return record(**{k: _decode(v) for k, v in value["value"].items() if k in names})
    raise ValueError(f"unknown tag in a queued request: {tag!r}")


def _hashable(key: Any) -> Any:
    return tuple(key) if isinstance(key, list) else key


def dumps(obj: dict) -> str:
    return json.dumps(_encode(obj), ensure_ascii=False, separators=(",", ":"))


def loads(data: bytes | str) -> dict:
    obj = _decode(json.loads(data))
    if not isinstance(obj, dict):
        raise ValueError("a queued request must be a JSON object")
    request_class = obj.get("_class")
    if request_class is not None and request_class not in ALLOWED_REQUEST_CLASSES:
        logger.warning("A queued request named the class %r: ignored, read as a plain Request", request_class)
        obj.pop("_class")
    return obj
