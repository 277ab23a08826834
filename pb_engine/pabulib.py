"""Read and write Pabulib `.pb` files (https://pabulib.org/format), losslessly.

A `.pb` file has three sections, each a title line (META, PROJECTS, VOTES), a
header line of `;`-separated column names and data lines; fields holding `;`
or `"` are quoted CSV-style (`"…"`, inner quotes doubled).

`parse_path(path)` and `parse_text(text)` return a `PabulibFile` (library code
says which it holds; `parse(path_or_text)`, for the REPL and tests, takes either
and tells a `str` apart by a newline or a leading META): the domain `Instance` (budget,
projects with every published column, META) and `Profile` (ballots plus every
voter column, `voter_id` included, in `profile.voters`), the column order of
both sections, and how the text was laid out (newline, BOM, final newline).

Round trips keep everything. Besides the domain objects, the parsed object
remembers each source line together with the object it produced; `dumps`
writes a line back verbatim when its object is still the very same one (so an
unchanged file comes back byte for byte, including approval ballots' order and
spacing), and formats it from the domain objects otherwise (or always, with
`preserve=False`). Decisions:

- Costs and the budget are exact `Fraction`s of the decimal text ("4000.0" is
  4000); a decimal comma, a thousands separator or a negative cost is refused.
- cumulative/scoring points must be whole numbers ("3" or "3.0"); ordinal
  ballots may carry a `points` column (Kraków gives 3,2,1 by rank): since an
  `OrdinalBallot` is only a ranking it stays in the voter's columns, as text.
- Blank lines are skipped; a duplicated META key, a duplicated project id, a
  vote for a project not in PROJECTS, a row whose field count differs from its
  header are all refused with `PabulibError` naming the line.

What real files hold and the reader accepts, each with a `PabulibWarning`
(a code, the line, the voter and project ids and the figures, no sentence to
parse) returned in `PabulibFile.warnings`, so that the CLI prints them and an
importer can keep them with the round:

- A vote that names a project twice (22 of the archive's ~1 750 files; in
  the six of tests/data/pabulib_quirks the published `votes` counts each
  entry and `score` sums their points):
  - approval, choose-1: the project is approved once (`repeated_approval`):
    approving twice says nothing more than approving;
  - cumulative, scoring: the entries' points are summed (`repeated_points_summed`):
    that is how the city counted them (Częstochowa 2020: a voter's four entries
    of 1 point for project 579 are the 4 points its published `score` holds),
    and the ballot's total is the same either way, so its limits still hold;
  - ordinal: the first position is kept and the later entries are dropped
    (`repeated_rank`), as a voter ranks a project where they first name it.
  `parse(..., strict=True)` (`pb-engine pabulib validate --strict`) refuses
  these instead, naming the line, the voter and the project.
- A vote naming no project (`empty_vote`), a project costing 0 (`zero_cost`),
  a budget above the total cost of all projects (`budget_exceeds_total_cost`):
  read as they are, with the warning; strict mode reads them too (they are
  legal, only unusual). A missing `selected` column is not a warning: the
  comparison with it says there is nothing to compare.
"""

from __future__ import annotations

import csv
import os
import re
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path
from collections.abc import Iterable, Mapping, Sequence

from pb_engine.allocation.instance import Instance, Project
from pb_engine.allocation.outcome import decimal_text
from pb_engine.allocation.tiebreak import natural_key
from pb_engine.ballots.kinds import (
    ApprovalBallot,
    Ballot,
    CumulativeBallot,
    OrdinalBallot,
    Profile,
    VoteType,
)
from pb_engine.errors import PabulibError

SECTIONS = ("META", "PROJECTS", "VOTES")
CATEGORY_COLUMNS = ("category", "categories")
NONE_TEXT = {"", "none"}

# What the reader repaired or noticed (see the module docstring), by code.
REPEATED_APPROVAL = "repeated_approval"
REPEATED_POINTS_SUMMED = "repeated_points_summed"
REPEATED_RANK = "repeated_rank"
EMPTY_VOTE = "empty_vote"
ZERO_COST = "zero_cost"
BUDGET_EXCEEDS_TOTAL_COST = "budget_exceeds_total_cost"
WARNING_CODES = (REPEATED_APPROVAL, REPEATED_POINTS_SUMMED, REPEATED_RANK, EMPTY_VOTE, ZERO_COST,
                 BUDGET_EXCEEDS_TOTAL_COST)


@dataclass(frozen=True)
class PabulibWarning:
    """Something the reader accepted but a reader of the file should know: a code and its figures.

    `line` is the file's line, `voter` and `project` the ids concerned (None when the warning is
    about neither), `params` the figures (e.g. `times`, `points`, `total`). `message` words it in
    English for the CLI; other edges word `code` + `params` themselves.
    """

    code: str
    line: int | None
    voter: str | None = None
    project: str | None = None
    params: Mapping[str, object] = field(default_factory=dict)

    @property
    def message(self) -> str:
        p = self.params
        if self.code == REPEATED_APPROVAL:
            return f"voter {self.voter!r} names project {self.project!r} {_times(p['times'])} in one vote: approved once"
        if self.code == REPEATED_POINTS_SUMMED:
            shown = "+".join(str(x) for x in p["points"])
            return (f"voter {self.voter!r} names project {self.project!r} {_times(len(p['points']))} in one vote: "
                    f"its points are summed ({shown} = {p['total']})")
        if self.code == REPEATED_RANK:
            return (f"voter {self.voter!r} ranks project {self.project!r} {_times(p['times'])}: kept at its first "
                    f"position ({p['position']}), the later entries dropped")
        if self.code == EMPTY_VOTE:
            return f"voter {self.voter!r} casts a vote naming no project"
        if self.code == ZERO_COST:
            return f"project {self.project!r} costs 0"
        if self.code == BUDGET_EXCEEDS_TOTAL_COST:
            return (f"the budget {p['budget']} is more than all projects cost together ({p['total_cost']}): "
                    "every project fits")
        return self.code

    def to_dict(self) -> dict:
        return {"code": self.code, "line": self.line, "voter": self.voter, "project": self.project,
                "params": dict(self.params)}


def _times(n: int) -> str:
    return "twice" if n == 2 else f"{n} times"


# --------------------------------------------------------------------------- model


class VoterRow(Mapping[str, str]):
    """One voter's columns (voter_id, age, sex, ...) as a read-only mapping.

    It keeps the split line and reads a field (stripped) on access: building a
    dict per ballot was a fifth of the parse time on a 60 000-ballot file.
    """

    __slots__ = ("_fields", "_index")

    def __init__(self, fields: Sequence[str], index: Mapping[str, int]):
        self._fields = fields
        self._index = index

    def __getitem__(self, key: str) -> str:
        return self._fields[self._index[key]].strip()

    def __iter__(self):
        return iter(self._index)

    def __len__(self) -> int:
        return len(self._index)

    def __repr__(self) -> str:
        return f"VoterRow({dict(self)!r})"

    def __eq__(self, other):
        if isinstance(other, VoterRow) and other._index.keys() == self._index.keys():
            f, g, j = self._fields, other._fields, other._index
            return all(f[i].strip() == g[j[k]].strip() for k, i in self._index.items())
        return Mapping.__eq__(self, other)

    __hash__ = None  # a mapping, like dict

    def __reduce__(self):
        return (dict, (dict(self),))


@dataclass
class _Memo:
    """Source lines kept for a verbatim round trip (see module docstring)."""

    titles: dict[str, str] = field(default_factory=dict)  # section -> raw title line
    headers: dict[str, tuple[tuple[str, ...], str]] = field(default_factory=dict)  # section -> (columns, raw line)
    meta: dict[tuple[str, str], str] = field(default_factory=dict)  # (key, value) -> raw line
    projects: dict[str, tuple[Project, str]] = field(default_factory=dict)  # id -> (object, raw line)
    votes: tuple[Sequence[Ballot], Sequence[Mapping[str, str]], list[str]] = ((), (), [])  # ballots, voters, lines


@dataclass(frozen=True)
class PabulibFile:
    instance: Instance
    profile: Profile
    project_columns: tuple[str, ...]
    vote_columns: tuple[str, ...]
    source: str | None = field(default=None, compare=False)
    newline: str = "\n"
    bom: bool = False
    final_newline: bool = True
    _memo: _Memo = field(default_factory=_Memo, repr=False, compare=False)
    # what the reader repaired or noticed, in file order (see the module docstring)
    warnings: tuple[PabulibWarning, ...] = field(default=(), compare=False)

    @property
    def meta(self) -> Mapping[str, str]:
        return self.instance.meta

    @property
    def vote_type(self) -> VoteType:
        return self.profile.vote_type

    @property
    def voter_ids(self) -> tuple[str, ...]:
        return tuple(v.get("voter_id", "") for v in self.profile.voters)

    @property
    def voter_columns(self) -> tuple[str, ...]:
        """VOTES columns other than voter_id, vote and (cumulative/scoring) points."""
        core = {"voter_id", "vote"} | ({"points"} if self.vote_type.shape is CumulativeBallot else set())
        return tuple(c for c in self.vote_columns if c not in core)

    def published(self, column: str) -> dict[str, str] | None:
        """A PROJECTS column as published (e.g. `selected`, `votes`, `score`), or None if absent."""
        if column not in self.project_columns:
            return None
        return {p.id: p.extra.get(column, "") for p in self.instance.projects}

    def with_(self, **changes) -> "PabulibFile":
        """A copy with other domain objects; unchanged objects still round-trip verbatim."""
        return replace(self, **changes)

    @classmethod
    def from_election(
        cls,
        instance: Instance,
        profile: Profile,
        *,
        project_columns: Sequence[str] | None = None,
        vote_columns: Sequence[str] | None = None,
        newline: str = "\n",
    ) -> "PabulibFile":
        """Wrap domain objects (e.g. a live round) for writing; columns default to what they hold."""
        if project_columns is None:
            cols = ["project_id", "cost"]
            if any(p.name for p in instance.projects):
                cols.append("name")
            if any(p.categories for p in instance.projects):
                cols.append("category")
            for p in instance.projects:
                for k in p.extra:
                    if k not in cols:
                        cols.append(k)
            project_columns = cols
        if vote_columns is None:
            cols = ["voter_id", "vote"]
            if profile.vote_type.shape is CumulativeBallot:
                cols.append("points")
            for v in profile.voters:
                for k in v:
                    if k not in cols:
                        cols.append(k)
            vote_columns = cols
        return cls(instance, profile, tuple(project_columns), tuple(vote_columns), newline=newline)


def warning_lines(warnings: Sequence[PabulibWarning], per_code: int = 5) -> list[str]:
    """English lines for the CLI: 'line N: message', at most `per_code` of each code, then a count of the rest."""
    out: list[str] = []
    shown: dict[str, int] = {}
    for w in warnings:
        shown[w.code] = shown.get(w.code, 0) + 1
        if shown[w.code] <= per_code:
            out.append(f"line {w.line}: {w.message}" if w.line is not None else w.message)
    for code, n in shown.items():
        if n > per_code:
            out.append(f"… and {n - per_code} more {code} warning(s)")
    return out


# --------------------------------------------------------------------------- reading


def parse(path_or_text: str | os.PathLike | bytes, *, source: str | None = None, strict: bool = False) -> PabulibFile:
    """Parse a .pb file from a path, from its text, or from its bytes (UTF-8, BOM allowed).

    A `str` is taken as text when it holds a newline or starts with META, else as a path;
    code that knows which it holds says so with `parse_path` or `parse_text`.
    `strict`: refuse a vote that names a project twice instead of reading it with a warning.
    """
    if isinstance(path_or_text, bytes):
        return parse_text(path_or_text.decode("utf-8"), source=source, strict=strict)
    if isinstance(path_or_text, os.PathLike) or (
        isinstance(path_or_text, str) and "\n" not in path_or_text and not path_or_text.lstrip("\ufeff").startswith("META")
    ):
        return parse_path(path_or_text, source=source, strict=strict)
    return parse_text(path_or_text, source=source, strict=strict)


def parse_path(path: str | os.PathLike, *, source: str | None = None, strict: bool = False) -> PabulibFile:
    """Parse the .pb file at `path` (UTF-8, BOM allowed)."""
    path = Path(path)
    source = source or str(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise PabulibError(None, f"cannot read file: {e.strerror or e}", source) from e
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise PabulibError(line, "not UTF-8 text", source) from e
    return parse_text(text, source=source, strict=strict)


def parse_text(text: str, *, source: str | None = None, strict: bool = False) -> PabulibFile:
    """Parse the text of a .pb file; `source` names it in errors.

    The cyclic GC stays as the caller set it: pausing it halves the time on large
    files (~10 objects per ballot, none in a cycle), but it is the whole process's,
    so only the CLI does it (pb_engine.commands.paused_gc)."""
    return _Parser(text, source, strict).run()


def _split(line: str) -> list[str]:
    if '"' not in line:
        return line.split(";")
    # Not strict, like the Pabulib tools: a quote inside an unquoted field is a plain character.
    rows = list(csv.reader([line], delimiter=";", quotechar='"'))
    return rows[0] if rows else [""]


def _open_quote(text: str) -> bool:
    """Does `text` end inside a quoted field? Only a quote opening a field opens one ("" inside is a quote)."""
    inside = False
    i, n = 0, len(text)
    at_start = True
    while i < n:
        c = text[i]
        if inside:
            if c == '"':
                if i + 1 < n and text[i + 1] == '"':
                    i += 1
                else:
                    inside = False
        elif c == '"' and at_start:
            inside = True
        at_start = c == ";" and not inside
        i += 1
    return inside


def _number(text: str, what: str, lineno: int, source: str | None) -> Fraction:
    t = text.strip()
    try:
        if not t or "/" in t or "_" in t:
            raise ValueError
        value = Fraction(t)
    except (ValueError, ZeroDivisionError):
        hint = " (use a decimal point, no thousands separator)" if re.fullmatch(r"[-+]?[\d][\d\s.,']*", t) else ""
        raise PabulibError(lineno, f"{what} {text!r} is not a number{hint}", source) from None
    return value


def _points(text: str, lineno: int, source: str | None) -> int:
    t = text.strip()
    try:
        value = Fraction(t) if t and "/" not in t and "_" not in t else None
    except (ValueError, ZeroDivisionError):
        value = None
    if value is None or value.denominator != 1:
        raise PabulibError(lineno, f"points {text!r} are not an integer", source)
    return int(value)


class _Parser:
    def __init__(self, text: str, source: str | None, strict: bool = False):
        self.source = source
        self.strict = strict
        self.warnings: list[PabulibWarning] = []
        self.bom = text.startswith("\ufeff")
        if self.bom:
            text = text[1:]
        self.final_newline = text.endswith("\n")
        raw = text.split("\n")
        if self.final_newline:
            raw.pop()
        self.raw = raw
        first = raw[0] if raw else ""
        self.newline = "\r\n" if first.endswith("\r") else "\n"
        self.memo = _Memo()
        self.pos = 0  # index of the next raw line to read

    def fail(self, lineno: int | None, problem: str):
        raise PabulibError(lineno, problem, self.source)

    def lines(self):
        """Yield (line number, raw line incl. any \\r, fields); joins quoted fields spanning lines."""
        raw = self.raw
        n = len(raw)
        while self.pos < n:
            lineno = self.pos + 1
            line = raw[self.pos]
            self.pos += 1
            if '"' in line and _open_quote(line):
                while self.pos < n and _open_quote(line):
                    line += "\n" + raw[self.pos]
                    self.pos += 1
                if _open_quote(line):
                    self.fail(lineno, "unterminated quoted field")
            body = line[:-1] if line.endswith("\r") else line
            if not body.strip():
                continue
            try:
                fields = _split(body)
            except csv.Error as e:
                self.fail(lineno, f"badly quoted field: {e}")
            yield lineno, line, fields

    def run(self) -> PabulibFile:
        sections: dict[str, tuple[int, tuple[str, ...], list]] = {}
        current = None
        expect_header = False
        for lineno, line, fields in self.lines():
            f0 = fields[0]
            title = f0.strip().upper() if len(f0) < 12 else None
            if title in SECTIONS and (len(fields) == 1 or not "".join(fields[1:]).strip()):
                if title in sections:
                    self.fail(lineno, f"section {title} appears twice (first on line {sections[title][0]})")
                expected = SECTIONS[len(sections)] if len(sections) < 3 else None
                if title != expected:
                    self.fail(lineno, f"section {title} out of order: expected {expected} here")
                current = title
                expect_header = True
                self.memo.titles[title] = line
                sections[title] = (lineno, (), [])
                continue
            if current is None:
                self.fail(lineno, f"expected the META section title, found {line.strip()[:40]!r}")
            if expect_header:
                cols = tuple(f.strip() for f in fields)
                self.check_header(current, cols, lineno)
                sections[current] = (sections[current][0], cols, [])
                self.memo.headers[current] = (cols, line)
                expect_header = False
                if current == "VOTES":
                    break  # the rest is read by the fast loop in read_votes
                continue
            sections[current][2].append((lineno, line, fields))
        for name in SECTIONS:
            if name not in sections:
                self.fail(len(self.raw) or 1, f"missing section {name}")
            if not sections[name][1]:
                self.fail(sections[name][0], f"section {name} has no header line")

        meta = self.read_meta(*sections["META"])
        instance, project_columns = self.read_projects(meta, *sections["PROJECTS"])
        profile, vote_columns = self.read_votes(instance, meta, *sections["VOTES"][:2])
        return PabulibFile(
            instance,
            profile,
            project_columns,
            vote_columns,
            source=self.source,
            newline=self.newline,
            bom=self.bom,
            final_newline=self.final_newline,
            _memo=self.memo,
            warnings=tuple(self.warnings),
        )

    def check_header(self, section: str, cols: tuple[str, ...], lineno: int) -> None:
        if any(not c for c in cols):
            self.fail(lineno, f"{section} header has an empty column name")
        dup = {c for c in cols if cols.count(c) > 1}
        if dup:
            self.fail(lineno, f"{section} header repeats column {sorted(dup)[0]!r}")
        need = {"META": ("key", "value"), "PROJECTS": ("project_id", "cost"), "VOTES": ("voter_id", "vote")}[section]
        if section == "META":
            if tuple(c.lower() for c in cols) != need:
                self.fail(lineno, f"META header must be 'key;value', found {';'.join(cols)!r}")
            return
        missing = [c for c in need if c not in cols]
        if missing:
            self.fail(lineno, f"{section} header lacks column {missing[0]!r}")

    # META -----------------------------------------------------------------
    def read_meta(self, title_line: int, cols, rows) -> dict[str, str]:
        meta: dict[str, str] = {}
        first: dict[str, int] = {}
        for lineno, line, fields in rows:
            if len(fields) != 2:
                self.fail(lineno, f"META line has {len(fields)} fields, expected 2 (key;value)")
            key, value = fields[0].strip(), fields[1].strip()
            if not key:
                self.fail(lineno, "META line has an empty key")
            if key in meta:
                self.fail(lineno, f"META key {key!r} repeated (first on line {first[key]})")
            meta[key] = value
            first[key] = lineno
            self.memo.meta[(key, value)] = line
        for key in ("budget", "vote_type"):
            if key not in meta:
                self.fail(title_line, f"META lacks the required key {key!r}")
        self.meta_lines = first
        return meta

    # PROJECTS ---------------------------------------------------------------
    def read_projects(self, meta, title_line: int, cols: tuple[str, ...], rows):
        budget = _number(meta["budget"], "budget", self.meta_lines["budget"], self.source)
        if budget < 0:
            self.fail(self.meta_lines["budget"], f"budget {meta['budget']!r} is negative")
        i_id, i_cost = cols.index("project_id"), cols.index("cost")
        i_name = cols.index("name") if "name" in cols else None
        i_cat = next((cols.index(c) for c in CATEGORY_COLUMNS if c in cols), None)
        extra_idx = [(j, c) for j, c in enumerate(cols) if j not in (i_id, i_cost, i_name, i_cat)]
        projects: list[Project] = []
        seen: dict[str, int] = {}
        ncols = len(cols)
        for lineno, line, fields in rows:
            if len(fields) != ncols:
                self.fail(lineno, f"PROJECTS row has {len(fields)} fields, header has {ncols}")
            pid = fields[i_id].strip()
            if not pid:
                self.fail(lineno, "empty project_id")
            if pid in seen:
                self.fail(lineno, f"duplicate project id {pid!r} (first on line {seen[pid]})")
            seen[pid] = lineno
            cost = _number(fields[i_cost], f"cost of project {pid!r}", lineno, self.source)
            if cost < 0:
                self.fail(lineno, f"cost of project {pid!r} is negative")
            if cost == 0:
                self.warnings.append(PabulibWarning(ZERO_COST, lineno, project=pid))
            cats: tuple[str, ...] = ()
            if i_cat is not None:
                ct = fields[i_cat].strip()
                if ct.lower() not in NONE_TEXT:
                    cats = tuple(c.strip() for c in ct.split(",") if c.strip())
            p = Project(
                id=pid,
                cost=cost,
                name=fields[i_name].strip() if i_name is not None else "",
                categories=cats,
                extra={c: fields[j].strip() for j, c in extra_idx},
            )
            projects.append(p)
            self.memo.projects[pid] = (p, line)
        if not projects:
            self.fail(title_line, "section PROJECTS has no projects")
        self.project_lines = seen
        total = sum((p.cost for p in projects), Fraction(0))
        if budget > total:
            self.warnings.append(PabulibWarning(
                BUDGET_EXCEEDS_TOTAL_COST, self.meta_lines["budget"],
                params={"budget": decimal_text(budget) or str(budget), "total_cost": decimal_text(total) or str(total)}))
        return Instance(budget=budget, projects=tuple(projects), meta=meta), cols

    # VOTES --------------------------------------------------------------------
    def read_votes(self, instance: Instance, meta, title_line: int, cols: tuple[str, ...]):
        vt_text = meta["vote_type"].strip().lower()
        try:
            vote_type = VoteType(vt_text)
        except ValueError:
            self.fail(
                self.meta_lines["vote_type"],
                f"unknown vote_type {meta['vote_type']!r}; expected one of {', '.join(v.value for v in VoteType)}",
            )
        shape = vote_type.shape
        if shape is CumulativeBallot and "points" not in cols:
            self.fail(title_line + 1, f"VOTES header lacks column 'points', required for {vote_type.value} ballots")
        known = frozenset(self.project_lines)
        ncols = len(cols)
        i_vote = cols.index("vote")
        i_points = cols.index("points") if "points" in cols else None
        keep = [(j, c) for j, c in enumerate(cols) if c != "vote" and not (c == "points" and shape is CumulativeBallot)]
        ordinal_points = i_points is not None and shape is OrdinalBallot
        keep_index = {c: j for j, c in keep}
        ballots: list[Ballot] = []
        voters: list[dict[str, str]] = []
        cache: dict[tuple[str, str], Ballot] = {}
        checked_points: set[tuple[str, str]] = set()
        linenos: list[int] = []
        lines: list[str] = []
        block = self.raw[self.pos:]
        if '"' in "".join(block):
            entries = self.lines()  # quoted fields: the general reader
        else:  # no quoting anywhere in VOTES, the usual case: split directly
            first_no = self.pos + 1
            entries = zip(
                range(first_no, first_no + len(block)),
                block,
                [(x[:-1] if x[-1:] == "\r" else x).split(";") for x in block],
            )
        approval = shape is ApprovalBallot
        i_vid = keep_index["voter_id"]
        self.flags: dict = {}  # cache key -> what the reader repaired or noticed in that vote text
        flags = self.flags
        warn = self.warnings.append
        for lineno, line, fields in entries:
            if len(fields) != ncols:
                body = ";".join(fields).strip()
                if not body:
                    continue
                if body.upper() in SECTIONS:
                    self.fail(lineno, f"section {body.upper()} appears again after VOTES")
                self.fail(lineno, f"VOTES row has {len(fields)} fields, header has {ncols}")
            vote_text = fields[i_vote]
            if approval:
                ballot = cache.get(vote_text)
                if ballot is None:
                    ids = vote_text.split(",")
                    unique = frozenset(ids)
                    if len(unique) == len(ids) and unique <= known:  # the common case, checked inline for speed
                        ballot = cache[vote_text] = ApprovalBallot(unique)
                    else:
                        ballot = cache[vote_text] = self.ballot(shape, vote_text, "", known, lineno,
                                                                fields[i_vid].strip(), vote_text)
                key = vote_text
            else:
                points_text = fields[i_points] if i_points is not None else ""
                key = (vote_text, points_text if shape is CumulativeBallot else "")
                ballot = cache.get(key)
                if ballot is None:
                    ballot = cache[key] = self.ballot(shape, vote_text, points_text, known, lineno,
                                                      fields[i_vid].strip(), key)
                if ordinal_points and points_text.strip() and (vote_text, points_text) not in checked_points:
                    n_ids = sum(1 for x in vote_text.split(",") if x.strip())
                    pts = [x for x in points_text.split(",") if x.strip()]
                    if len(pts) != n_ids:
                        self.fail(lineno, f"vote lists {n_ids} projects but points has {len(pts)} values")
                    for x in pts:
                        _points(x, lineno, self.source)
                    checked_points.add((vote_text, points_text))
            if flags and key in flags:  # a warning for every voter who cast this vote text
                vid = fields[i_vid].strip()
                for code, pid, params in flags[key]:
                    warn(PabulibWarning(code, lineno, vid, pid, params))
            ballots.append(ballot)
            voters.append(VoterRow(fields, keep_index))
            lines.append(line)
            linenos.append(lineno)
        ids = [v._fields[i_vid].strip() for v in voters]
        if len(set(ids)) != len(ids):
            first: dict[str, int] = {}
            for lineno, vid in zip(linenos, ids):
                if vid in first:
                    self.fail(lineno, f"duplicate voter_id {vid!r} (first on line {first[vid]})")
                first[vid] = lineno
        ballots_t, voters_t = tuple(ballots), tuple(voters)
        self.memo.votes = (ballots_t, voters_t, lines)
        return Profile(vote_type, ballots_t, voters_t), cols

    def ballot(self, shape, vote_text: str, points_text: str, known: frozenset[str], lineno: int,
               voter: str, key) -> Ballot:
        """The ballot of one vote text; what it repairs (see the module docstring) goes to self.flags[key]."""
        ids = vote_text.split(",")
        if " " in vote_text or "\t" in vote_text:
            ids = [x.strip() for x in ids]
        if "" in ids:
            ids = [x for x in ids if x]
        unique = frozenset(ids)
        if not unique <= known:
            pid = next(x for x in ids if x not in known)
            self.fail(lineno, f"vote for unknown project {pid!r} (not in PROJECTS)")
        issues: list[tuple[str, str | None, dict]] = [] if ids else [(EMPTY_VOTE, None, {})]
        repeated = [x for x in dict.fromkeys(ids) if ids.count(x) > 1] if len(unique) != len(ids) else []
        if repeated and self.strict:
            n = ids.count(repeated[0])
            self.fail(lineno, f"voter {voter!r}: project {repeated[0]!r} appears {_times(n)} in one vote "
                              "(refused in strict mode)")
        if shape is ApprovalBallot:
            issues += [(REPEATED_APPROVAL, x, {"times": ids.count(x)}) for x in repeated]
            ballot: Ballot = ApprovalBallot(unique)
        elif shape is OrdinalBallot:
            issues += [(REPEATED_RANK, x, {"times": ids.count(x), "position": ids.index(x) + 1}) for x in repeated]
            ballot = OrdinalBallot(tuple(dict.fromkeys(ids)) if repeated else tuple(ids))
        else:
            pts = [x for x in (p.strip() for p in points_text.split(",")) if x]
            if len(pts) != len(ids):
                self.fail(lineno, f"vote lists {len(ids)} projects but points has {len(pts)} values")
            given: dict[str, list[int]] = {}
            for pid, x in zip(ids, pts):
                given.setdefault(pid, []).append(_points(x, lineno, self.source))
            issues += [(REPEATED_POINTS_SUMMED, x, {"points": given[x], "total": sum(given[x])}) for x in repeated]
            ballot = CumulativeBallot.of({pid: sum(v) for pid, v in given.items()})
        if issues:
            self.flags[key] = tuple(issues)
        return ballot


# --------------------------------------------------------------------------- writing


def _quote(value: str) -> str:
    if ";" in value or '"' in value or "\n" in value or "\r" in value or value != value.strip():
        return '"' + value.replace('"', '""') + '"'
    return value


def _row(values: Iterable[str]) -> str:
    return ";".join(_quote(v) for v in values)


def format_number(x: Fraction | int) -> str:
    """Exact decimal text of a money amount: 4000, 12.5; refuses amounts with no finite decimal form."""
    text = decimal_text(x)
    if text is None:
        raise ValueError(f"{Fraction(x)} has no finite decimal form; a .pb file cannot hold it exactly")
    return text


def _points_text(ballot) -> tuple[str, str]:
    if isinstance(ballot, ApprovalBallot):
        return ",".join(sorted(ballot.projects, key=natural_key)), ""
    if isinstance(ballot, OrdinalBallot):
        return ",".join(ballot.ranking), ""
    pairs = sorted(ballot.points, key=lambda kv: (-kv[1], natural_key(kv[0])))
    return ",".join(p for p, _ in pairs), ",".join(str(n) for _, n in pairs)


def dumps(pb: PabulibFile, *, preserve: bool = True) -> str:
    """The file's text. `preserve=False` formats every line from the domain objects."""
    memo = pb._memo if preserve else _Memo()
    nl = pb.newline
    out: list[str] = []
    add = out.append
    inst, prof = pb.instance, pb.profile

    def section(name: str, cols: tuple[str, ...]) -> None:
        title = memo.titles.get(name)
        add(title + "\n" if title is not None else name + nl)
        kept = memo.headers.get(name)
        add(kept[1] + "\n" if kept and kept[0] == cols else _row(cols) + nl)

    # META: the budget and vote type follow the domain objects.
    meta = dict(inst.meta)
    if "budget" not in meta or _safe_fraction(meta["budget"]) != inst.budget:
        meta["budget"] = format_number(inst.budget)
    if meta.get("vote_type", "").strip().lower() != prof.vote_type.value:
        meta["vote_type"] = prof.vote_type.value
    section("META", ("key", "value"))
    for k, v in meta.items():
        line = memo.meta.get((k, v))
        add(line + "\n" if line is not None else _row((k, v)) + nl)

    cols = pb.project_columns
    section("PROJECTS", cols)
    for p in inst.projects:
        m = memo.projects.get(p.id)
        if m is not None and m[0] is p:
            add(m[1] + "\n")
            continue
        add(_row(_project_values(p, cols)) + nl)

    cols = pb.vote_columns
    section("VOTES", cols)
    m_ballots, m_voters, m_lines = memo.votes
    same_len = len(m_lines) == len(prof.ballots)
    voters = prof.voters if len(prof.voters) == len(prof.ballots) else [{}] * len(prof.ballots)
    for i, (b, v) in enumerate(zip(prof.ballots, voters)):
        if same_len and m_ballots[i] is b and m_voters[i] is v:
            add(m_lines[i] + "\n")
            continue
        vote, points = _points_text(b)
        values = []
        for c in cols:
            if c == "vote":
                values.append(vote)
            elif c == "points" and isinstance(b, CumulativeBallot):
                values.append(points)
            elif c == "voter_id" and "voter_id" not in v:
                values.append(str(i + 1))
            else:
                values.append(str(v.get(c, "")))
        add(_row(values) + nl)

    text = "".join(out)
    if not pb.final_newline and text.endswith("\n"):
        text = text[:-1]
        if text.endswith("\r"):
            text = text[:-1]
    return ("\ufeff" if pb.bom else "") + text


def _project_values(p: Project, cols: tuple[str, ...]) -> list[str]:
    values = []
    for c in cols:
        if c == "project_id":
            values.append(p.id)
        elif c == "cost":
            values.append(format_number(p.cost))
        elif c == "name":
            values.append(p.name)
        elif c in CATEGORY_COLUMNS:
            values.append(",".join(p.categories))
        else:
            values.append(str(p.extra.get(c, "")))
    return values


def _safe_fraction(text: str) -> Fraction | None:
    try:
        return Fraction(text.strip())
    except (ValueError, ZeroDivisionError):
        return None


def write(pb: PabulibFile, path: str | os.PathLike, *, preserve: bool = True) -> None:
    # newline="" so that the text's own line endings are written unchanged.
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(dumps(pb, preserve=preserve))
