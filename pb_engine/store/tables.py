"""SQLModel tables. Money is integer minor units (BigInteger: a Warsaw budget in
grosze overflows 32 bits). JSON columns hold settings whose shape is the city
config's (ballot limits, rule options, eligibility). API shapes live elsewhere.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from sqlalchemy import JSON, BigInteger, Column, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from pb_engine.store.types import UTCDateTime, utcnow


def _fk(target: str, nullable: bool = False, ondelete: str = "CASCADE", index: bool = True) -> Any:
    return Field(default=None, sa_column=Column(Integer, ForeignKey(target, ondelete=ondelete), nullable=nullable, index=index))


def _when(nullable: bool = False) -> Any:
    if nullable:
        return Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    return Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


def _money(nullable: bool = False) -> Any:
    return Field(default=None if nullable else 0, sa_column=Column(BigInteger, nullable=nullable))


def _json(default=dict) -> Any:
    return Field(default_factory=default, sa_column=Column(JSON, nullable=False))


# --- tenants and their rounds -------------------------------------------------

class City(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    slug: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    name: str
    country: str
    population: Optional[int] = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    currency: str = Field(max_length=3)
    locales: list = _json(list)
    timezone: str
    notes: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    config_file: str = ""
    config_hash: str = ""  # sha256 of the last loaded config: a reload that changes nothing writes nothing
    created_at: datetime = _when()


class Category(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("city_id", "slug"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    city_id: int = _fk("city.id")
    slug: str
    name: str
    taxonomy: str  # the shared taxonomy term, for cross-city comparison


class Round(SQLModel, table=True):
    __tablename__ = "pb_round"  # `round` is a function name in PostgreSQL
    __table_args__ = (UniqueConstraint("city_id", "slug"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    city_id: int = _fk("city.id")
    slug: str
    title: str
    description: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    budget: int = _money()
    districts_must_sum: bool = False
    endorsement_threshold: int = 0
    endorsement_requires: str = "account"  # who may endorse: account (any account or voter session) | verified
    ballot: dict = _json()        # {kind, min_projects, max_projects, min_spend_share, max_points, ...}
    rule: dict = _json()          # {id, satisfaction, completion, threshold, ...}
    eligibility: dict = _json()   # {methods: [access_code, resident], multi_district, min_age, ...}
    tie_breaking: str = "id"
    categories: list = _json(list)  # city category slugs proposals may use; empty: all of the city's
    version: int = 1              # bumped when frozen settings change after a new round version
    voter_secret: str = ""        # per-round key for pseudonymous voter keys; never exported
    live_turnout: bool = False    # publish voters and turnout while voting is open (pb_engine.secrecy)
    created_at: datetime = _when()
    updated_at: datetime = _when()


class District(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("round_id", "slug"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    round_id: int = _fk("pb_round.id")
    slug: str
    name: str
    budget: int = _money()
    population: Optional[int] = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    position: int = 0


class Phase(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("round_id", "name"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    round_id: int = _fk("pb_round.id")
    name: str  # submission | endorsement | review | voting | tally | results | implementation
    starts_at: datetime = _when()
    ends_at: datetime = _when()


# --- people -------------------------------------------------------------------

class StaffUser(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    city_id: int = _fk("city.id")
    name: str
    role: str  # manager (or its alias admin) | reviewer | clerk | viewer
    token_hash: str = Field(sa_column=Column(String(128), unique=True, nullable=False))
    active: bool = True
    password_hash: Optional[str] = None       # argon2 hash of the console password; None until set
    setup_token_hash: Optional[str] = None    # sha256 of the one-time set-password link's token
    setup_expires_at: Optional[datetime] = _when(nullable=True)
    created_at: datetime = _when()


class Resident(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("city_id", "username"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    city_id: int = _fk("city.id")
    username: str
    display_name: str
    password_hash: str = ""
    district_slug: Optional[str] = None     # the district the resident says they live in
    verified: bool = False                  # staff verified the district: may vote there
    verified_by: Optional[int] = _fk("staffuser.id", nullable=True, ondelete="SET NULL")
    created_at: datetime = _when()
    # Sign-up by e-mail (pb_engine.residents.sign_up): an account is pending, and cannot sign in, until the
    # link mailed to `email` is opened; the link's token is stored as its sha256 only.
    email: Optional[str] = None
    pending: bool = False
    confirm_hash: Optional[str] = Field(default=None, index=True)
    confirm_expires_at: Optional[datetime] = _when(nullable=True)


class ResidentCode(SQLModel, table=True):
    """A one-time verification code staff hand or post to a resident (pb_engine.resident_codes): typed into the
    account, it verifies it (and its district, when the code names one). Only a keyed hash is stored."""

    id: Optional[int] = Field(default=None, primary_key=True)
    city_id: int = _fk("city.id")
    district_slug: Optional[str] = None
    code_hash: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    issued_by: Optional[int] = _fk("staffuser.id", nullable=True, ondelete="SET NULL")
    issued_at: datetime = _when()
    used_by: Optional[int] = _fk("resident.id", nullable=True, ondelete="SET NULL")
    used_at: Optional[datetime] = _when(nullable=True)


# --- proposals and what residents and staff say about them --------------------

class Proposal(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    round_id: int = _fk("pb_round.id")
    district_id: int = _fk("district.id")
    title: str
    summary: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    description: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    categories: list = _json(list)
    estimated_cost: Optional[int] = _money(nullable=True)
    reviewed_cost: Optional[int] = _money(nullable=True)
    feasible: Optional[bool] = None
    status: str = "submitted"  # submitted | endorsed | under_review | on_ballot | rejected | withdrawn | funded | not_funded
    author_resident_id: Optional[int] = _fk("resident.id", nullable=True, ondelete="SET NULL")
    author_voter_key: Optional[str] = None   # when submitted from a voter session
    entered_by_staff_id: Optional[int] = _fk("staffuser.id", nullable=True, ondelete="SET NULL")  # on behalf of residents
    borrowed_from_id: Optional[int] = _fk("proposal.id", nullable=True, ondelete="SET NULL")  # an idea taken from another city
    # What it was taken from, copied when borrowed ({proposal_id, city, city_name, round, round_title, title}):
    # the attribution survives the original's deletion (a Pabulib re-import replaces its proposals).
    origin: Optional[dict] = Field(default=None, sa_column=Column(JSON, nullable=True))
    merged_into_id: Optional[int] = _fk("proposal.id", nullable=True, ondelete="SET NULL")  # a duplicate merged into that one
    endorsement_count: int = 0  # kept with the endorsement row in one transaction; used for filters and sorting
    created_at: datetime = _when()
    updated_at: datetime = _when()


class ProposalStatusChange(SQLModel, table=True):
    """A proposal's status history, shown on its public page: each move with when and why."""

    __tablename__ = "proposal_status_change"
    id: Optional[int] = Field(default=None, primary_key=True)
    proposal_id: int = _fk("proposal.id")
    status: str
    reason: str = ""          # a code: submitted, threshold_reached, review, outcome_published
    note: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))  # staff's public reason
    at: datetime = _when()


class Endorsement(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("proposal_id", "endorser_key"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    proposal_id: int = _fk("proposal.id")
    endorser_key: str  # "resident:<id>" or a pseudonymous voter key: one endorsement per person
    created_at: datetime = _when()


class Comment(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    proposal_id: int = _fk("proposal.id")
    author_resident_id: Optional[int] = _fk("resident.id", nullable=True, ondelete="SET NULL")
    author_name: str = "resident"
    body: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = _when()
    hidden_at: Optional[datetime] = _when(nullable=True)  # moderated: kept, shown to nobody but staff
    hidden_reason: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    hidden_by: Optional[int] = _fk("staffuser.id", nullable=True, ondelete="SET NULL")


class ProposalAuthor(SQLModel, table=True):
    """Further authors of a proposal: the authors of duplicates merged into it keep their credit."""
    __tablename__ = "proposal_author"
    # Index names say coauthor: ix_proposal_author_resident_id is already proposal.author_resident_id's.
    __table_args__ = (UniqueConstraint("proposal_id", "resident_id"),
                      Index("ix_proposal_coauthor_proposal_id", "proposal_id"),
                      Index("ix_proposal_coauthor_resident_id", "resident_id"),
                      Index("ix_proposal_coauthor_from_proposal_id", "from_proposal_id"))
    id: Optional[int] = Field(default=None, primary_key=True)
    proposal_id: int = _fk("proposal.id", index=False)
    resident_id: Optional[int] = _fk("resident.id", nullable=True, ondelete="SET NULL", index=False)
    voter_key: Optional[str] = None           # an author who wrote from a voter session
    from_proposal_id: Optional[int] = _fk("proposal.id", nullable=True, ondelete="SET NULL", index=False)  # the merged duplicate
    added_at: datetime = _when()


class StaffResponse(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    proposal_id: int = _fk("proposal.id")
    staff_id: Optional[int] = _fk("staffuser.id", nullable=True, ondelete="SET NULL")
    kind: str = "answer"  # answer | review | progress (implementation report)
    body: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = _when()


# --- voting -------------------------------------------------------------------

class AccessCode(SQLModel, table=True):
    __table_args__ = (Index("ix_accesscode_round_voter", "round_id", "voter_key"),)  # marking a code spent
    id: Optional[int] = Field(default=None, primary_key=True)
    round_id: int = _fk("pb_round.id")
    district_id: int = _fk("district.id")
    code_hash: str = Field(sa_column=Column(String(128), unique=True, nullable=False))
    voter_key: str  # derived from the code with the round secret: the code is the voter
    batch: str = ""
    created_by: Optional[int] = _fk("staffuser.id", nullable=True, ondelete="SET NULL")
    created_at: datetime = _when()
    spent_at: Optional[datetime] = _when(nullable=True)
    revoked_at: Optional[datetime] = _when(nullable=True)  # a lost or misprinted slip: the code no longer opens anything
    # The clear code sealed (Fernet, key from the app's secret) so that clerks can print the batch's
    # sheet and CSV again until they mark it printed; then it is wiped and only the HMAC remains.
    sealed: Optional[str] = None
    revoked_by: Optional[int] = _fk("staffuser.id", nullable=True, ondelete="SET NULL")
    # One person, one ballot (pb_engine.code_binding): the resident account that claimed this code; the code
    # then votes with that account's voter key.
    claimed_by: Optional[int] = _fk("resident.id", nullable=True, ondelete="SET NULL")


class VoterSession(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    round_id: int = _fk("pb_round.id")
    token_hash: str = Field(sa_column=Column(String(128), unique=True, nullable=False))
    voter_key: str = Field(index=True)
    district_id: Optional[int] = _fk("district.id", nullable=True)  # access codes bind a district
    resident_id: Optional[int] = _fk("resident.id", nullable=True, ondelete="SET NULL")
    created_at: datetime = _when()
    expires_at: datetime = _when()


class Ballot(SQLModel, table=True):
    """The one counting ballot of a voter in a district. No person is named: voter_key is a keyed hash."""

    __table_args__ = (UniqueConstraint("round_id", "district_id", "voter_key", name="uq_ballot_voter_district"),
                      Index("ix_ballot_round_voter", "round_id", "voter_key"))  # a voter's ballots in all districts
    id: Optional[int] = Field(default=None, primary_key=True)
    round_id: int = _fk("pb_round.id")
    district_id: int = _fk("district.id")
    voter_key: str
    channel: str = "online"  # online | paper
    content: dict = _json()  # {"projects": [...]} | {"points": {...}} | {"ranking": [...]}
    receipt: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    version: int = 1
    cast_at: datetime = _when()


class BallotHistory(SQLModel, table=True):
    """Replaced ballots, kept for audit; never counted."""

    id: Optional[int] = Field(default=None, primary_key=True)
    round_id: int = _fk("pb_round.id")
    district_id: int = _fk("district.id")
    voter_key: str = Field(index=True)
    channel: str
    content: dict = _json()
    receipt: str
    version: int
    cast_at: datetime = _when()
    replaced_at: datetime = _when()


class VoterChannel(SQLModel, table=True):
    """Which channel a voter used in a round: paper voters cannot vote online, and the reverse."""

    __table_args__ = (UniqueConstraint("round_id", "voter_key"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    round_id: int = _fk("pb_round.id")
    voter_key: str
    channel: str


# --- outcomes and the audit log ------------------------------------------------

class PaperEntry(SQLModel, table=True):
    """A paper ballot typed in by a clerk, waiting for its second entry before it counts.

    The first entry keeps the content and the sha256 of the code typed; a second entry (by the same
    clerk again or another one) that matches makes the ballot count (`ballot_receipt`); one that
    differs marks both as a mismatch for a clerk to enter again. No clear code is kept.
    """
    __tablename__ = "paper_entry"
    id: Optional[int] = Field(default=None, primary_key=True)
    round_id: int = _fk("pb_round.id")
    district_id: int = _fk("district.id")
    voter_ref: str = Field(sa_column=Column(String(128), nullable=False, index=True))  # sha256 of code or "resident:<id>"
    content: dict = _json()
    status: str = "pending"  # pending | confirmed | mismatch | discarded
    entered_by: Optional[int] = _fk("staffuser.id", nullable=True, ondelete="SET NULL")
    entered_at: datetime = _when()
    confirmed_by: Optional[int] = _fk("staffuser.id", nullable=True, ondelete="SET NULL")
    confirmed_at: Optional[datetime] = _when(nullable=True)
    ballot_receipt: Optional[str] = None


class ImplementationUpdate(SQLModel, table=True):
    """A progress report on a funded project, shown on its public page and the round's overview."""
    __tablename__ = "implementation_update"
    id: Optional[int] = Field(default=None, primary_key=True)
    proposal_id: int = _fk("proposal.id")
    status: str = "planned"  # planned | in_progress | done | delayed | cancelled
    percent_done: int = 0
    spent: Optional[int] = _money(nullable=True)  # spend so far, minor units
    on_date: datetime = _when()                 # the date the report speaks for
    note: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    photo: Optional[bytes] = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    photo_type: Optional[str] = None            # image/jpeg | image/png | image/webp
    created_by: Optional[int] = _fk("staffuser.id", nullable=True, ondelete="SET NULL")
    created_at: datetime = _when()


class OutcomeRecord(SQLModel, table=True):
    __tablename__ = "outcome"
    id: Optional[int] = Field(default=None, primary_key=True)
    round_id: int = _fk("pb_round.id")
    rule: dict = _json()            # {id, options...} as run
    what_if: bool = False           # run with a rule other than the round's
    status: str = "draft"           # draft | published | superseded
    result: dict = _json()          # {"districts": [...]} as the API shows it
    input_hash: str = ""
    engine_version: str = ""
    created_by: Optional[int] = _fk("staffuser.id", nullable=True, ondelete="SET NULL")
    created_at: datetime = _when()
    published_at: Optional[datetime] = _when(nullable=True)
    supersedes_id: Optional[int] = _fk("outcome.id", nullable=True, ondelete="SET NULL")


class AuditEvent(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    city_id: Optional[int] = _fk("city.id", nullable=True)
    round_id: Optional[int] = _fk("pb_round.id", nullable=True)
    actor: str   # "staff:<id>", "cli", "system"
    action: str  # e.g. round.advance, proposal.review, paper_ballot.enter, config.load
    target: str = ""
    before: Optional[dict] = Field(default=None, sa_column=Column(JSON, nullable=True))
    after: Optional[dict] = Field(default=None, sa_column=Column(JSON, nullable=True))
    at: datetime = _when()


# --- long work: jobs and the rule-result cache (issue 12) --------------------------------------

class Job(SQLModel, table=True):
    """A piece of long work (a rule on a large round, an archive file): its state and progress live here,
    whichever backend runs it (RQ worker on any host, or a thread of the web process), so every web
    worker can answer `GET /api/v1/jobs/<id>`."""
    id: str = Field(sa_column=Column(String(32), primary_key=True))  # uuid4 hex, also the RQ job id
    kind: str                                   # e.g. outcome.run (pb_engine.jobs.KINDS)
    args: dict = _json()
    state: str = "queued"                       # queued | running | done | failed
    done: int = 0                               # progress: steps done of total
    total: int = 0
    message: str = ""                           # what it is doing now (a code, worded at the edge)
    result: Optional[dict] = Field(default=None, sa_column=Column(JSON, nullable=True))
    error: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    city_id: Optional[int] = _fk("city.id", nullable=True)
    round_id: Optional[int] = _fk("pb_round.id", nullable=True)
    created_by: Optional[int] = _fk("staffuser.id", nullable=True, ondelete="SET NULL")
    created_at: datetime = _when()
    started_at: Optional[datetime] = _when(nullable=True)
    finished_at: Optional[datetime] = _when(nullable=True)
    heartbeat_at: Optional[datetime] = _when(nullable=True)  # last sign of life of the process holding it


class RuleResult(SQLModel, table=True):
    """A rule's outcome on one district's exact inputs, keyed by a hash of ballots digest, rule id,
    options, tie-breaking order and engine version: the same ballots are never counted twice."""
    __tablename__ = "rule_result"
    key: str = Field(sa_column=Column(String(80), primary_key=True))  # sha256:<hex> of the inputs
    rule: str
    input_hash: str                             # the ballots digest (registry.input_hash)
    engine_version: str
    result: dict = _json()                      # Outcome.to_dict()
    seconds: float = 0.0                        # what computing it took
    created_at: datetime = _when()
