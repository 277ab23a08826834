"""The shared category taxonomy: every city maps its own categories onto these terms,
so that rounds can be compared across cities ("how much went to transport?").

Kept short and fixed on purpose: a term added here is a term every analysis must
handle. A city's own, finer categories live in its config and point here.
"""

from __future__ import annotations

TAXONOMY: dict[str, str] = {
    "transport": "Streets, cycling, walking, public transit, parking, road safety works",
    "environment": "Greenery, trees, parks, water, climate, energy, waste and recycling, animals",
    "education": "Schools, kindergartens, libraries, courses, science",
    "culture": "Arts, heritage, events, community centres' cultural programmes",
    "sport": "Sports grounds, playgrounds, fitness, recreation",
    "health": "Health care, prevention, welfare of people in need of care",
    "social": "Community building, inclusion, seniors, youth, neighbourhood initiatives",
    "safety": "Lighting, monitoring, crime and accident prevention",
    "public-space": "Squares, benches, toilets, street furniture, the look of public places",
    "infrastructure": "Buildings, utilities and other physical works not covered above",
    "digital": "Online services, open data, connectivity, digital skills",
    "other": "Anything that fits none of the terms above",
}

TERMS: tuple[str, ...] = tuple(TAXONOMY)


def is_term(slug: str) -> bool:
    return slug in TAXONOMY


def describe(slug: str) -> str:
    return TAXONOMY[slug]
