"""The ballots digest: a fingerprint of the exact ballots counted, that anyone can recompute from the export.

A district's digest is `pb_engine.allocation.registry.input_hash` of its election in major units of
money, i.e. sha256 (hex, prefixed `sha256:`) of this UTF-8 text:

    budget=<budget>\\n
    project=<id>;<cost>\\n        one line per project on the ballot, sorted by id (as text)
    vote_type=<approval|cumulative|ordinal>\\n
    <ballot>\\n<ballot>...         one line per ballot, the lines sorted (as text), joined by \\n, none after
                                  the last: `A:<ids sorted, comma-separated>` (approval, knapsack),
                                  `C:<id>=<points>,...` (cumulative, ids sorted),
                                  `O:<ids in rank order>` (ranked)

where budget and costs are exact rationals written as Python's Fraction does (`2500`, `12345/2`).
Sorting the ballot lines makes the digest independent of the order of ballots. The round's digest (the
`input_hash` of a published outcome) is sha256 of the lines `<district slug>=<district digest>` in the
round's district order, joined by \\n.

Every .pb export carries `ballots_digest` (of the file's own ballots) and, once results are published,
`published_ballots_digest` (the district's digest in the published outcome): `pb-engine verify`
recomputes the first from the file and compares it with both. The results check the published digest
against the ballots stored now, so a ballot changed after publication shows.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from pb_engine.allocation.registry import input_hash


def district_digest(instance, profile) -> str:
    """The digest of one district's election (money in major units, as published and exported)."""
    return input_hash(instance, profile)


def round_digest(pairs: list[tuple[str, str]]) -> str:
    """The round's digest from (district slug, district digest) in the round's district order."""
    return "sha256:" + hashlib.sha256("\n".join(f"{slug}={h}" for slug, h in pairs).encode()).hexdigest()


@dataclass(frozen=True)
class BallotsCheck:
    matches: bool
    published: str                        # the round digest the outcome was published with
    current: str                          # the same digest of the ballots stored now
    districts: tuple[tuple[str, str, str], ...]  # (slug, published district digest, current one)

    def to_dict(self) -> dict:
        return {"status": "match" if self.matches else "mismatch", "published": self.published,
                "current": self.current,
                "districts": [{"district": slug, "published": p, "current": c, "matches": p == c}
                              for slug, p, c in self.districts]}


def check_published(session, city, rnd, record) -> BallotsCheck:
    """The published outcome's digests against the ballots stored now (read once per district)."""
    from pb_engine import outcomes, voting
    from pb_engine.store.lookup import districts_of

    published = {d["district"]: d.get("input_hash", "") for d in (record.result or {}).get("districts", [])}
    pairs, rows = [], []
    for d in districts_of(session, rnd):
        instance, profile = voting.district_election(session, rnd, d)
        current = district_digest(outcomes.in_major_units(instance, city.currency), profile)
        pairs.append((d.slug, current))
        rows.append((d.slug, published.get(d.slug, ""), current))
    current = round_digest(pairs)
    return BallotsCheck(current == record.input_hash, record.input_hash, current, tuple(rows))
