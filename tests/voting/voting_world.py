"""A small round to vote in: city `testville` (PLN, Europe/Warsaw), round `2026`, districts north and south."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone



from pb_engine.store.tables import City, District, Phase, Proposal, Resident, Round, StaffUser

UTC = timezone.utc
NOW = datetime(2026, 4, 15, 12, 0, tzinfo=UTC)          # inside voting
BEFORE = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)       # review
AFTER = datetime(2026, 5, 3, 12, 0, tzinfo=UTC)         # tally
PHASES = [
    ("review", datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, 7, 0, tzinfo=UTC)),
    ("voting", datetime(2026, 4, 1, 7, 0, tzinfo=UTC), datetime(2026, 4, 30, 16, 0, tzinfo=UTC)),
    ("tally", datetime(2026, 4, 30, 16, 0, tzinfo=UTC), datetime(2026, 5, 7, tzinfo=UTC)),
    ("results", datetime(2026, 5, 7, tzinfo=UTC), datetime(2026, 12, 31, tzinfo=UTC)),
]
# Costs in grosze (minor units); north's budget is 1 000 000 zł.
NORTH_COSTS = [300_000_00, 250_000_00, 200_000_00, 400_000_00, 100_000_00]
SOUTH_COSTS = [500_000_00, 300_000_00]


@dataclass
class World:
    db: object
    city_id: int
    round_id: int
    north_id: int
    south_id: int
    north: list[int] = field(default_factory=list)   # project ids on north's ballot
    south: list[int] = field(default_factory=list)
    staff_id: int = 0
    other_staff_id: int = 0
    resident_id: int = 0          # verified, lives in north
    unverified_id: int = 0
    withdrawn_id: int = 0         # a north proposal not on the ballot


def build(db, *, ballot=None, eligibility=None, rule=None) -> World:
    with db.session() as s:
        city = City(slug="testville", name="Testville", country="Poland", currency="PLN", locales=["pl"],
                    timezone="Europe/Warsaw")
        other = City(slug="otherville", name="Otherville", country="Poland", currency="PLN", locales=["pl"],
                     timezone="Europe/Warsaw")
        s.add(city)
        s.add(other)
        s.flush()
        rnd = Round(city_id=city.id, slug="2026", title="Testville 2026", budget=1_500_000_00,
                    ballot=ballot or {"kind": "approval", "max_projects": 3},
                    eligibility=eligibility if eligibility is not None else {"methods": ["access_code", "resident"],
                                                                               "multi_district": False},
                    rule=rule or {"id": "greedy"})
        s.add(rnd)
        s.flush()
        north = District(round_id=rnd.id, slug="north", name="North", budget=1_000_000_00, position=0)
        south = District(round_id=rnd.id, slug="south", name="South", budget=500_000_00, position=1)
        s.add(north)
        s.add(south)
        s.flush()
        for name, a, b in PHASES:
            s.add(Phase(round_id=rnd.id, name=name, starts_at=a, ends_at=b))
        w = World(db, city.id, rnd.id, north.id, south.id)
        for i, cost in enumerate(NORTH_COSTS):
            p = Proposal(round_id=rnd.id, district_id=north.id, title=f"North project {i + 1}", reviewed_cost=cost,
                         feasible=True, status="on_ballot")
            s.add(p)
            s.flush()
            w.north.append(p.id)
        for i, cost in enumerate(SOUTH_COSTS):
            p = Proposal(round_id=rnd.id, district_id=south.id, title=f"South project {i + 1}", reviewed_cost=cost,
                         feasible=True, status="on_ballot")
            s.add(p)
            s.flush()
            w.south.append(p.id)
        p = Proposal(round_id=rnd.id, district_id=north.id, title="Withdrawn", reviewed_cost=1000, status="withdrawn")
        s.add(p)
        staff = StaffUser(city_id=city.id, name="Clerk Anna", role="admin", token_hash="h1")
        foreign = StaffUser(city_id=other.id, name="Foreign Bob", role="admin", token_hash="h2")
        res = Resident(city_id=city.id, username="jan", display_name="Jan Kowalski", district_slug="north",
                       verified=True)
        unv = Resident(city_id=city.id, username="ewa", display_name="Ewa Nowak", district_slug="north")
        for row in (staff, foreign, res, unv):
            s.add(row)
        s.flush()
        w.withdrawn_id, w.staff_id, w.other_staff_id = p.id, staff.id, foreign.id
        w.resident_id, w.unverified_id = res.id, unv.id
    return w
