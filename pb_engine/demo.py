"""Demo data: three rounds of the Taiwanese cities, dated relative to now, so that whatever
today's date a fresh service shows a round open for voting, one taking proposals,
and one with published results.

    taipei/2026     voting open now      proposals reviewed and on the ballot, endorsements,
                                          comments, staff responses, ballots cast so far
    taichung/2026   submission open now  proposals, endorsements, comments, a staff answer
    kaohsiung/2026  results published    as taipei, plus all ballots and the outcome computed
                                          by the round's rule (method of equal shares) and published

Everything goes through the same services the API uses (config.upsert_round,
proposals, voting.cast_ballot, outcomes.run/publish), with `now` set to a
moment inside the right phase, so the demo obeys every rule a real round does.

Idempotent: each stage checks what is already there (proposals, ballots per
district, a published outcome) and adds only what is missing; a restart writes
nothing. When the service is restarted long after seeding and a demo round has
drifted out of its phase, its phase dates are shifted back around now (written to
the audit log as demo.redate). The cities themselves come from city_configs/.

Beside them, real published rounds from Pabulib (`pb_engine/demo_data/pabulib/`, sources in its
SOURCE.md: Warszawa 2026, Wieliczka 2023 Green Budget, Toulouse 2022) are imported with
`pb-engine import-pabulib`'s own importer, so an analyst compares them with the Taiwanese rounds out
of the box. Only once: a file whose sha256 was imported before is not even parsed again (a restart
costs a query). The first start spends a few seconds on Warszawa's 61,668 ballots and says so.
Set PB_DEMO_PABULIB=0 to leave them out.
"""

from __future__ import annotations

import hashlib
import os
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Callable

from sqlmodel import Session, func, select

from pb_engine import audit
from pb_engine.config import parse_round, upsert_round
from pb_engine.errors import NotFound
from pb_engine.money import to_minor
from pb_engine.phases import current_phase, window
from pb_engine.store.lookup import city_by_slug, district_by_slug, phases_of
from pb_engine.store.tables import (AuditEvent, Ballot, Category, City, OutcomeRecord, Phase, Proposal, Round,
                                    StaffUser)
from pb_engine.store.types import utcnow

ACTOR = "demo"
STAFF_NAME = "Demo staff (seeded)"
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class DemoRound:
    city: str
    slug: str
    phase: str                                   # the phase it should be in now
    phases: tuple[tuple[str, int, int], ...]     # (name, start, end) in days from now
    settings: dict[str, Any]                     # the rest of the round, in config shape
    proposals: tuple[tuple[str, str, str, str, int, bool], ...]  # district, title, summary, category, cost, on ballot
    voters: int = 0                              # ballots per district (0: no voting yet)

    @property
    def ref(self) -> str:
        return f"{self.city}/{self.slug}"


ROUNDS = (
    DemoRound(
        city="taipei", slug="2026", phase="voting", voters=24,
        phases=(("submission", -60, -40), ("review", -40, -10), ("voting", -3, 25), ("results", 35, 200)),
        settings={
            "title": "臺北市參與式預算 2026 Taipei participatory budget 2026 (demo)",
            "description": "Demo round: voting is open. Choose up to 3 projects in your district.",
            "budget": 15_000_000, "districts_must_sum": True, "endorsement_threshold": 3,
            "districts": [
                {"slug": "daan", "name": "大安區 Da'an", "budget": 5_000_000, "population": 280_000},
                {"slug": "wanhua", "name": "萬華區 Wanhua", "budget": 5_000_000, "population": 170_000},
                {"slug": "beitou", "name": "北投區 Beitou", "budget": 5_000_000, "population": 240_000},
            ],
            "ballot": {"kind": "approval", "min_projects": 1, "max_projects": 3},
            "rule": {"id": "greedy"},
            "eligibility": {"methods": ["access_code", "resident"], "multi_district": False, "min_age": 16},
            "tie_breaking": "id",
        },
        proposals=(
            ("daan", "大安森林公園共融遊戲場 Inclusive playground in Da'an Forest Park", "Play equipment every child can use, wheelchair users included.", "parks", 2_400_000, True),
            ("daan", "新生南路自行車道改善 Safer bike lane on Xinsheng South Road", "Separate the bike lane from traffic with planters.", "traffic", 1_800_000, True),
            ("daan", "社區長者共餐據點 Community meals for seniors", "A weekly shared lunch for elderly neighbours.", "social-welfare", 900_000, True),
            ("daan", "巷弄照明 LED lighting in the lanes", "Brighter, warmer lights in the lanes off Roosevelt Road.", "safety", 1_200_000, True),
            ("wanhua", "剝皮寮街頭藝術節 Street art festival at Bopiliao", "A yearly festival for local artists in the historic street.", "culture", 1_500_000, True),
            ("wanhua", "艋舺公園遮陽設施 Shade for Mengjia Park", "Shade sails and benches for hot afternoons.", "parks", 2_000_000, True),
            ("wanhua", "青少年課後輔導 After-school tutoring for teens", "Volunteer tutors and a quiet study room.", "education", 1_100_000, True),
            ("wanhua", "河濱停車場 Car park by the river", "A multi-storey car park on the riverside green.", "traffic", 4_800_000, False),
            ("beitou", "北投溫泉步道修繕 Repair the hot-spring trail", "Fix the steps and railings of the trail above the hot springs.", "parks", 2_600_000, True),
            ("beitou", "圖書館週末開放 Weekend opening of the library branch", "Staff to open the Beitou branch library on Sundays.", "education", 1_300_000, True),
            ("beitou", "社區運動器材 Outdoor fitness corner", "Fitness equipment for all ages in Qingjiang park.", "sports", 900_000, True),
        ),
    ),
    DemoRound(
        city="taichung", slug="2026", phase="submission",
        phases=(("submission", -5, 40), ("endorsement", 40, 55), ("review", 55, 85), ("voting", 90, 104),
                ("results", 110, 300)),
        settings={
            "title": "臺中市參與式預算 2026 Taichung participatory budget 2026 (demo)",
            "description": "Demo round: send your ideas now; with 5 endorsements an idea goes to review.",
            "budget": 10_000_000, "districts_must_sum": True, "endorsement_threshold": 5,
            "districts": [
                {"slug": "xitun", "name": "西屯區 Xitun", "budget": 5_000_000, "population": 235_000},
                {"slug": "nantun", "name": "南屯區 Nantun", "budget": 5_000_000, "population": 180_000},
            ],
            "ballot": {"kind": "knapsack", "min_projects": 1, "min_spend_share": 0.5},
            "rule": {"id": "mes", "satisfaction": "cost", "completion": "greedy"},
            "eligibility": {"methods": ["access_code"], "multi_district": False, "min_age": 16},
            "tie_breaking": "id",
        },
        proposals=(
            ("xitun", "逢甲夜市垃圾分類站 Sorting bins at Fengjia night market", "Bins for recycling and food waste along the market streets.", "environment", 800_000, False),
            ("xitun", "智慧公車站牌 Real-time bus signs", "Signs that show when the next bus comes, on 20 stops.", "smart-city", 1_500_000, False),
            ("xitun", "社區共學教室 Neighbourhood learning room", "Evening classes run by neighbours for neighbours.", "education-culture", 600_000, False),
            ("nantun", "筏子溪親水步道 Waterside path along the Fazi River", "A walking path with access to the water.", "public-space", 2_800_000, False),
            ("nantun", "萬和宮廟埕活化 A square for festivals at Wanhe Temple", "Movable seats and lights for the temple square.", "community", 1_200_000, False),
        ),
    ),
    DemoRound(
        city="kaohsiung", slug="2026", phase="results", voters=30,
        phases=(("submission", -150, -120), ("review", -120, -60), ("voting", -40, -20), ("tally", -20, -12),
                ("results", -10, 355)),
        settings={
            "title": "高雄市參與式預算 2026 Kaohsiung participatory budget 2026 (demo)",
            "description": "Demo round: the results are published; the budget was shared with the method of equal shares.",
            "budget": 15_000_000, "districts_must_sum": True, "endorsement_threshold": 3,
            "districts": [
                {"slug": "lingya", "name": "苓雅區 Lingya", "budget": 5_000_000, "population": 165_000},
                {"slug": "sanmin", "name": "三民區 Sanmin", "budget": 5_000_000, "population": 330_000},
                {"slug": "gushan", "name": "鼓山區 Gushan", "budget": 5_000_000, "population": 140_000},
            ],
            "ballot": {"kind": "approval", "min_projects": 1, "max_projects": 3},
            "rule": {"id": "mes", "satisfaction": "cost", "completion": "greedy"},
            "eligibility": {"methods": ["access_code", "resident"], "multi_district": False, "min_age": 16},
            "tie_breaking": "id",
        },
        proposals=(
            ("lingya", "文化中心週末市集 Weekend market at the Cultural Center", "Stalls for local makers on Saturdays.", "arts", 1_200_000, True),
            ("lingya", "苓雅長照據點 Day care corner for elders", "A day care corner in the community centre.", "elderly-care", 2_500_000, True),
            ("lingya", "自行車停車架 Bike racks near MRT exits", "Racks for 300 bikes at three MRT exits.", "harbour-transport", 700_000, True),
            ("lingya", "里民活動中心修繕 Repair the neighbourhood hall", "New roof and toilets for the hall.", "neighbourhood", 1_900_000, True),
            ("sanmin", "三民公園樹蔭步道 Shaded walk in Sanmin Park", "Trees and a shaded path around the park.", "green", 2_200_000, True),
            ("sanmin", "青年創客空間 Maker space for youth", "Tools and mentors for young makers.", "youth-education", 1_600_000, True),
            ("sanmin", "長者運動班 Exercise classes for elders", "Twice-weekly classes in five neighbourhoods.", "elderly-care", 800_000, True),
            ("sanmin", "社區巡守隊裝備 Gear for the neighbourhood watch", "Lights, radios and vests.", "neighbourhood", 600_000, True),
            ("gushan", "西子灣海岸淨灘 Beach clean-ups at Sizihwan", "Monthly clean-ups with equipment and bags.", "green", 500_000, True),
            ("gushan", "哈瑪星鐵道文化導覽 Hamasen railway heritage walks", "Guided walks and signs about the old railway.", "arts", 900_000, True),
            ("gushan", "渡輪站無障礙改善 Step-free access at the ferry pier", "Ramps and a lift at the Gushan ferry pier.", "harbour-transport", 3_200_000, True),
            ("gushan", "鼓山國小操場整修 Resurface the school sports ground", "New surface for the sports ground, open to all after school.", "youth-education", 2_100_000, True),
        ),
    ),
)


# Two more rounds open for voting, so that every ballot kind the booth offers can be tried: a
# budget (knapsack) ballot and a ranking ballot.
ROUNDS += (
    DemoRound(
        city="taichung", slug="2026-youth", phase="voting", voters=18,
        phases=(("submission", -70, -45), ("review", -45, -8), ("voting", -2, 20), ("results", 28, 200)),
        settings={
            "title": "臺中市青年參與式預算 2026 Taichung youth budget 2026 (demo)",
            "description": "Demo round: voting is open. Fill your budget: choose projects whose costs add up to "
                           "NT$3,000,000 at most.",
            "budget": 3_000_000, "districts_must_sum": True, "endorsement_threshold": 0,
            "districts": [{"slug": "citywide", "name": "全市 Citywide", "budget": 3_000_000, "population": 2_850_000}],
            "ballot": {"kind": "knapsack", "min_projects": 1},
            "rule": {"id": "mes", "satisfaction": "cost", "completion": "greedy"},
            "eligibility": {"methods": ["access_code"], "multi_district": False, "min_age": 14},
            "tie_breaking": "id",
        },
        proposals=(
            ("citywide", "青年共享工作室 Shared studio for young creators", "A studio with tools and a recording booth.", "education-culture", 1_200_000, True),
            ("citywide", "校園周邊人行道 Safe sidewalks near schools", "Wider sidewalks on five school routes.", "transport", 900_000, True),
            ("citywide", "滑板公園 Skate park in Taichung Park", "A small skate park with lights until 22:00.", "public-space", 1_500_000, True),
            ("citywide", "免費單車維修站 Free bike repair stations", "Ten self-service repair stands at MRT stations.", "transport", 400_000, True),
            ("citywide", "河川淨溪行動 River clean-up days", "Monthly clean-ups with gear for 200 volunteers.", "environment", 300_000, True),
            ("citywide", "夜間讀書空間 Late-night study rooms", "Two libraries open until midnight during exams.", "education-culture", 700_000, True),
        ),
    ),
    DemoRound(
        city="kaohsiung", slug="2026-arts", phase="voting", voters=15,
        phases=(("submission", -80, -50), ("review", -50, -6), ("voting", -1, 24), ("results", 30, 200)),
        settings={
            "title": "高雄市藝文參與式預算 2026 Kaohsiung arts budget 2026 (demo)",
            "description": "Demo round: voting is open. Rank up to three projects, best first.",
            "budget": 2_000_000, "districts_must_sum": True, "endorsement_threshold": 0,
            "districts": [{"slug": "citywide", "name": "全市 Citywide", "budget": 2_000_000, "population": 2_730_000}],
            "ballot": {"kind": "ranked", "min_rank": 1, "max_rank": 3},
            "rule": {"id": "greedy"},
            "eligibility": {"methods": ["access_code"], "multi_district": False, "min_age": 16},
            "tie_breaking": "id",
        },
        proposals=(
            ("citywide", "駁二街頭音樂季 Street music season at Pier-2", "Twelve weekend concerts by local bands.", "arts", 800_000, True),
            ("citywide", "社區壁畫計畫 Neighbourhood murals", "Murals painted with residents on six walls.", "arts", 500_000, True),
            ("citywide", "兒童戲劇工作坊 Children's theatre workshops", "Free workshops in ten community centres.", "youth-education", 600_000, True),
            ("citywide", "港邊戶外電影院 Open-air cinema by the harbour", "Films on the harbour lawn on summer nights.", "harbour-transport", 700_000, True),
        ),
    ),
)

@dataclass
class DemoResult:
    lines: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return "; ".join(self.lines) or "nothing to do"


def seed_demo(db, now: datetime | None = None, *, real_rounds: bool | None = None,
              say: Callable[[str], None] | None = None) -> DemoResult:
    """Make sure the demo rounds exist and are in their phase at `now`. Needs the cities loaded first.
    `real_rounds`: import the Pabulib rounds too (default: unless PB_DEMO_PABULIB=0); `say` is told
    before a long import."""
    now = now or utcnow()
    result = DemoResult()
    if real_rounds is None:
        real_rounds = os.environ.get("PB_DEMO_PABULIB", "1") != "0"
    for spec in ROUNDS:
        done: list[str] = []
        with db.write_session() as s:
            city = _city(s, spec)
            what = _ensure_round(s, city, spec, now)
            if what:
                done.append(what)
            staff = _staff(s, city)
            rnd = _round(s, city, spec)
            if _seed_proposals(s, rnd, spec, staff, now):
                done.append(f"{len(spec.proposals)} proposals")
            round_id, staff_id = rnd.id, staff.id
        if spec.voters:
            cast = _seed_ballots(db, round_id, spec, now)
            if cast:
                done.append(f"{cast} ballots")
        if spec.phase == "results":
            with db.write_session() as s:
                if _publish_outcome(s, round_id, staff_id, now):
                    done.append("outcome published")
        result.lines.append(f"{spec.ref} ({spec.phase}) {', '.join(done) if done else 'unchanged'}")
    if real_rounds:
        result.lines.extend(seed_real_rounds(db, say=say))
    return result


PABULIB_DIR = Path(__file__).parent / "demo_data" / "pabulib"
# The shipped city configs (city_configs/) already describe these rounds, with their own rule, phases and
# district slugs: each file fills its district there (city, round, district). Other files of the folder
# make their city and round from META, as `pb-engine import-pabulib` does.
REAL_ROUNDS = {
    "Poland_Warszawa_2026.pb": ("warszawa", "2026", "citywide"),
    "Poland_Wieliczka_2023_Green_Budget.pb": ("wieliczka", "2023-green-budget", "gmina"),
    "France_Toulouse_2022.pb": ("toulouse", "2022", "toulouse"),
}
LONG_IMPORT_BYTES = 1_000_000  # Warszawa 2026 (3 MB) takes seconds to import: the console is told first


def seed_real_rounds(db, folder: Path = PABULIB_DIR, say: Callable[[str], None] | None = None) -> list[str]:
    """Import each .pb file of `folder` unless that very file (sha256) was imported before."""
    from pb_engine.errors import PBError
    from pb_engine.importer import ACTION, import_file

    with db.session() as s:
        done = {(e.after or {}).get("sha256") for e in s.exec(select(AuditEvent).where(AuditEvent.action == ACTION))}
    lines = []
    for path in sorted(folder.glob("*.pb")):
        data = path.read_bytes()
        if hashlib.sha256(data).hexdigest() in done:
            lines.append(f"{path.name} (Pabulib) unchanged")
            continue
        if say and len(data) >= LONG_IMPORT_BYTES:
            say(f"demo data: importing the real round {path.name} ({len(data) / 1e6:.1f} MB) once; "
                "this takes a few seconds")
        place = REAL_ROUNDS.get(path.name)
        try:
            if place and _round_exists(db, place[0], place[1]):
                r = import_file(db, path, city=place[0], into=place[1:])
            else:
                r = import_file(db, path)
        except PBError as e:  # e.g. a city of that name made by hand: the demo leaves it alone
            lines.append(f"{path.name} (Pabulib) not imported: {e.message}")
            continue
        lines.append(f"{r.city}/{r.round}/{r.district} (Pabulib, {r.ballots} ballots) {r.status}")
    return lines


def _round_exists(db, city: str, slug: str) -> bool:
    with db.session() as s:
        c = s.exec(select(City).where(City.slug == city)).first()
        return c is not None and s.exec(select(Round.id).where(Round.city_id == c.id, Round.slug == slug)).first() \
            is not None


def _city(s: Session, spec: DemoRound) -> City:
    try:
        return city_by_slug(s, spec.city)
    except NotFound:
        raise NotFound(f"demo round {spec.ref} needs the city {spec.city!r}: load city_configs/ first "
                       f"(pb-engine load-configs city_configs/)") from None


def _round(s: Session, city: City, spec: DemoRound) -> Round:
    return s.exec(select(Round).where(Round.city_id == city.id, Round.slug == spec.slug)).one()


def _round_dict(spec: DemoRound, now: datetime) -> dict[str, Any]:
    phases = [{"name": n, "starts_at": (now + a * DAY).isoformat(), "ends_at": (now + b * DAY).isoformat()}
              for n, a, b in spec.phases]
    return {"slug": spec.slug, **spec.settings, "phases": phases}


def _ensure_round(s: Session, city: City, spec: DemoRound, now: datetime) -> str | None:
    row = s.exec(select(Round).where(Round.city_id == city.id, Round.slug == spec.slug)).first()
    if row is None:
        categories = s.exec(select(Category.slug).where(Category.city_id == city.id)).all()
        cfg = parse_round(_round_dict(spec, now), timezone=city.timezone, currency=city.currency,
                          categories=categories, file=f"demo:{spec.ref}", prefix="")
        upsert_round(s, city, cfg, ACTOR, now)
        return "round created"
    if current_phase(phases_of(s, row), now) == spec.phase:
        return None
    # Seeded long ago: bring the round back into its phase by shifting every date by the same amount.
    stored = window(phases_of(s, row), spec.phase)
    start_days = next(a for n, a, _b in spec.phases if n == spec.phase)
    delta = (now + start_days * DAY) - stored.starts_at
    rows = s.exec(select(Phase).where(Phase.round_id == row.id)).all()
    before = {p.name: p.starts_at.isoformat() for p in rows}
    for p in rows:
        p.starts_at, p.ends_at = p.starts_at + delta, p.ends_at + delta
        s.add(p)
    audit.record(s, actor=ACTOR, action="demo.redate", city_id=city.id, round_id=row.id, target=spec.ref,
                 before=before, after={p.name: p.starts_at.isoformat() for p in rows})
    s.flush()
    return f"dates shifted by {delta.days} days"


def _staff(s: Session, city: City) -> StaffUser:
    from pb_engine.staff import create_staff

    row = s.exec(select(StaffUser).where(StaffUser.city_id == city.id, StaffUser.name == STAFF_NAME)).first()
    if row is None:
        row, _token = create_staff(s, city, name=STAFF_NAME, role="admin", actor=ACTOR)  # token not kept: nobody logs in
    return row


def _seed_proposals(s: Session, rnd: Round, spec: DemoRound, staff: StaffUser, now: datetime) -> bool:
    from pb_engine import proposals as svc

    if s.exec(select(func.count()).select_from(Proposal).where(Proposal.round_id == rnd.id)).one():
        return False
    city = s.get(City, rnd.city_id)
    phases = phases_of(s, rnd)
    sub = window(phases, "submission")
    review = window(phases, "review")
    t = sub.starts_at + HOUR
    rng = random.Random(spec.ref)
    for i, (district, title, summary, category, cost, on_ballot) in enumerate(spec.proposals):
        p = svc.submit(s, rnd, {"title": title, "summary": summary, "description": summary, "district": district,
                                "categories": [category], "estimated_cost": to_minor(cost, city.currency)},
                       now=t + i * timedelta(minutes=7), voter_key=f"demo-author-{i}")
        n_endorse = rng.randint(rnd.endorsement_threshold or 1, (rnd.endorsement_threshold or 1) + 6)
        if spec.phase == "submission" and i % 2:
            n_endorse = rng.randint(0, max(rnd.endorsement_threshold - 1, 0))  # some still gathering support
        for j in range(n_endorse):
            svc.endorse(s, rnd, p, participant_key=f"demo-endorser-{j}", now=t + HOUR + j * timedelta(minutes=3))
        svc.comment(s, rnd, p, body=_COMMENTS[i % len(_COMMENTS)], resident_id=None,
                    author_name=f"resident {chr(65 + i % 26)}", now=t + 2 * HOUR)
        if i % 3 == 1:
            svc.comment(s, rnd, p, body="+1, and please keep it open in the evenings.", resident_id=None,
                        author_name=f"resident {chr(66 + i % 25)}", now=t + 3 * HOUR)
        if review is not None and review.starts_at <= now:
            at = review.starts_at + HOUR + i * timedelta(minutes=5)
            if on_ballot:
                svc.review(s, rnd, p, {"reviewed_cost": to_minor(cost, city.currency), "feasible": True,
                                       "status": "on_ballot"}, staff=staff, now=at)
                svc.respond(s, rnd, p, staff=staff, kind="review", now=at,
                            body="Reviewed by the district office: feasible at the estimated cost; on the ballot.")
            else:
                svc.review(s, rnd, p, {"feasible": False, "status": "rejected"}, staff=staff, now=at)
                svc.respond(s, rnd, p, staff=staff, kind="review", now=at,
                            body="Not feasible: the land is reserved for flood control. The office suggests "
                                 "resubmitting it as a shared-parking scheme next year.")
        elif i == 0:
            svc.respond(s, rnd, p, staff=staff, kind="answer", now=t + 4 * HOUR,
                        body="Thank you! The environmental protection bureau will look at this during review.")
    return True


_COMMENTS = (
    "Great idea, our kids would use it every day.",
    "How will this be maintained after it is built?",
    "I support this; the current state is unsafe at night.",
    "Could this be combined with the project next door?",
)


def _seed_ballots(db, round_id: int, spec: DemoRound, now: datetime) -> int:
    """Cast ballots until every district has `spec.voters`, through the real voting path."""
    from pb_engine import voting

    cast = 0
    with db.session() as s:
        rnd = s.get(Round, round_id)
        city = s.get(City, rnd.city_id)
        vote = window(phases_of(s, rnd), "voting")
        max_projects = (rnd.ballot or {}).get("max_projects") or (rnd.ballot or {}).get("max_rank") or 3
        kind = (rnd.ballot or {}).get("kind", "approval")
        costs: dict[int, int] = {}
        plan = []
        for d_slug in [d["slug"] for d in spec.settings["districts"]]:
            district = district_by_slug(s, rnd, d_slug)
            have = s.exec(select(func.count()).select_from(Ballot).where(Ballot.round_id == rnd.id,
                                                                         Ballot.district_id == district.id)).one()
            rows = s.exec(select(Proposal).where(Proposal.round_id == rnd.id, Proposal.district_id == district.id,
                                                 Proposal.status == "on_ballot").order_by(Proposal.id)).all()
            ids = [p.id for p in rows]
            costs.update({p.id: p.reviewed_cost or 0 for p in rows})
            if have < spec.voters and ids:
                plan.append((district, ids, spec.voters - have))
    end = min(vote.ends_at, now) - HOUR
    for district, ids, need in plan:
        rng = random.Random(f"{spec.ref}/{district.slug}/{need}")
        weights = [len(ids) - k + rng.random() * 2 for k in range(len(ids))]  # earlier ideas a bit more popular
        at = vote.starts_at + HOUR
        step = max((end - at) / (need + 1), timedelta(seconds=1))
        with db.write_session() as s:
            rnd = s.get(Round, round_id)
            codes = voting.generate_access_codes(s, rnd, district.slug, need, batch=f"demo-{district.slug}", now=at)
        for n, code in enumerate(codes):
            when = at + step * n
            k = rng.randint(1, min(max_projects, len(ids)))
            chosen: list[int] = []
            pool, w = list(ids), list(weights)
            for _ in range(k):
                pick = rng.choices(range(len(pool)), weights=w)[0]
                chosen.append(pool.pop(pick))
                w.pop(pick)
            with db.session() as s:
                rnd = s.get(Round, round_id)
                token = voting.open_voter_session(s, rnd, access_code=code, now=when)
                voter = voting.voter_from_token(s, city, rnd, token, now=when)
            content = _content(kind, chosen, costs, district.budget)
            voting.cast_ballot(db, round_id, district.slug, voter, content, now=when)
            cast += 1
    return cast


def _content(kind: str, chosen: list[int], costs: dict[int, int], budget: int) -> dict:
    """A demo voter's picks (most wanted first) as a ballot of the round's kind."""
    if kind == "knapsack":  # keep the picks that still fit, in the order wanted
        kept, total = [], 0
        for pid in chosen:
            if total + costs[pid] <= budget:
                kept.append(pid)
                total += costs[pid]
        return {"projects": sorted(kept)}
    if kind == "ranked":
        return {"ranking": chosen}
    if kind == "cumulative":
        return {"points": {str(pid): 1 for pid in chosen}}
    return {"projects": sorted(chosen)}


def _publish_outcome(s: Session, round_id: int, staff_id: int, now: datetime) -> bool:
    from pb_engine import outcomes

    rnd = s.get(Round, round_id)
    if s.exec(select(OutcomeRecord.id).where(OutcomeRecord.round_id == rnd.id,
                                             OutcomeRecord.status == "published")).first() is not None:
        return False
    city = s.get(City, rnd.city_id)
    staff = s.get(StaffUser, staff_id)
    record = outcomes.run(s, city, rnd, staff=staff, now=now)
    outcomes.publish(s, city, rnd, record, staff=staff, now=now)
    return True
