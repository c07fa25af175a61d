"""The sources newscrawl knows: one declarative entry per Maghress source."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Source:
    slug: str  # Maghress's section: /fr/<slug>
    name: str  # display name, stored as source_name
    publisher_hosts: tuple[str, ...]  # hosts the "read at source" link may lead to
    languages: tuple[str, ...] = ("fr",)


SOURCES: dict[str, Source] = {
    "lopinion": Source("lopinion", "L'Opinion", ("lopinion.ma", "www.lopinion.ma"), ("fr", "en", "es")),
}
