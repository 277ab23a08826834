"""Proposal search in the database: filters, full-text match, relevance order and pages, all in SQL.

The indexes come from migration 0004_proposal_search (SQLite: FTS5 tables kept by triggers; PostgreSQL:
a generated, GIN-indexed tsvector column of weighted 'simple' vectors, and pg_trgm's index where the
server has it).

How a query is read, the same on SQLite and PostgreSQL:
- The text is split on white space into chunks and each chunk into runs of letters, marks and digits.
  Punctuation only separates runs, so FTS5 and tsquery syntax typed by a visitor (quotes, *, ^, :, -,
  NEAR, AND, OR, parentheses) is never syntax: each run is quoted as a plain string. Operators are not
  offered: every run must match (AND), somewhere in the title, summary or description.
- A run of a script written with spaces matches a word that starts with it, ignoring case:
  "bike" finds "bike lanes" and "bikes", "Bike LANES" finds "bike lanes". No stemming ("lanes" does not
  find "lane"): PostgreSQL's 'simple' configuration does not stem, since cities write in many
  languages, and SQLite answers the same. SQLite: FTS5 unicode61 prefix query; PostgreSQL: tsquery 'run':*.
- A run holding a character of a script written without spaces (Chinese, Japanese, Korean, Thai, Lao,
  Khmer, Myanmar) matches as a substring: "綠地" finds "公園綠地". Neither unicode61 nor PostgreSQL's
  parser splits such a run into words ("公園綠地" is one token to both), so word matching would only
  find whole runs. A run mixing scripts ("台北101") is matched whole, as a substring; a Latin run glued
  to CJK text ("101" in "台北101大樓") is not found, on either database.
  - 3 or more characters: SQLite matches in the trigram FTS5 table; PostgreSQL uses ILIKE, which
    pg_trgm's GIN index serves when the extension could be created (else it scans the rows).
  - 1 or 2 characters: trigrams need 3, so SQLite falls back to LIKE over the same columns (a scan of
    the round's proposals, or of every proposal for search_all); PostgreSQL uses the same ILIKE.
- A chunk with no letter or digit at all ("%", "&") matches as a literal substring, case-insensitively.
- Order: relevance, best first, then id. Relevance weighs the title above the summary above the
  description (SQLite: bm25 with weights 10/4/1; PostgreSQL: ts_rank of weights A/B/C, normalised by
  document length; a substring term adds 1.0, 0.4 or 0.1 for the best column it is found in). Without
  a query: by id.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Iterable

from sqlalchemy import Float, Integer, case, cast, column, func, literal, literal_column, select, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Session

from pb_engine.store.tables import Proposal

MAX_TERMS = 32  # a longer query keeps its first 32 runs; the API caps q at 200 characters anyway

# Scripts written without spaces between words: matched as substrings (see the module docstring).
_UNSPACED = (
    (0x0E00, 0x0EFF),    # Thai, Lao
    (0x1000, 0x109F),    # Myanmar
    (0x1100, 0x11FF),    # Hangul Jamo
    (0x1780, 0x17FF),    # Khmer
    (0x2E80, 0x2FDF),    # CJK radicals
    (0x3000, 0x303F),    # CJK symbols (々, 〇)
    (0x3040, 0x31FF),    # Hiragana, Katakana, Bopomofo, Hangul compatibility Jamo, Kanbun
    (0x3400, 0x4DBF),    # CJK extension A
    (0x4E00, 0x9FFF),    # CJK unified ideographs
    (0xA960, 0xA97F),    # Hangul Jamo extended A
    (0xAC00, 0xD7FF),    # Hangul syllables, Jamo extended B
    (0xF900, 0xFAFF),    # CJK compatibility ideographs
    (0xFF65, 0xFFDC),    # halfwidth Katakana and Hangul
    (0x20000, 0x3134F),  # CJK extensions B to G
)

# PostgreSQL: migration 0004's generated column (weighted 'simple' tsvector of the three columns, GIN index).
_PG_TSVECTOR = "proposal.search_vector"
_COLUMN_WEIGHTS = ((Proposal.title, 1.0), (Proposal.summary, 0.4), (Proposal.description, 0.1))
_BM25 = "bm25({table}, 10.0, 4.0, 1.0)"


def _unspaced(ch: str) -> bool:
    code = ord(ch)
    return any(lo <= code <= hi for lo, hi in _UNSPACED)


def _word_char(ch: str) -> bool:
    # Letters, marks (Devanagari vowel signs, combining accents) and digits; what FTS5's unicode61 keeps.
    return unicodedata.category(ch)[0] in "LMN" or unicodedata.category(ch) == "Co"


@dataclass
class Terms:
    """A visitor's query, read as described in the module docstring."""

    words: list[str] = field(default_factory=list)       # matched as word prefixes
    substrings: list[str] = field(default_factory=list)  # unspaced-script runs and punctuation-only chunks

    def __bool__(self) -> bool:
        return bool(self.words or self.substrings)


def parse(q: str | None) -> Terms:
    terms = Terms()
    seen: set[str] = set()

    def add(kind: list[str], term: str) -> None:
        key = term.casefold()
        if key not in seen and len(seen) < MAX_TERMS:
            seen.add(key)
            kind.append(term)

    # Control and format characters (NUL, zero-width space) separate like spaces: PostgreSQL refuses NUL.
    q = "".join(" " if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Cn") else ch
                for ch in unicodedata.normalize("NFC", q or ""))
    for chunk in q.split():
        runs, run = [], ""
        for ch in chunk:
            if _word_char(ch):
                run += ch
            elif run:
                runs.append(run)
                run = ""
        if run:
            runs.append(run)
        if not runs:
            add(terms.substrings, chunk)
        for r in runs:
            add(terms.substrings if any(_unspaced(ch) for ch in r) else terms.words, r)
    return terms


def _fts_string(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def _like_pattern(term: str) -> str:
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _joined_text():
    # Served by ix_proposal_search_trgm on PostgreSQL. A term never holds white space, so it cannot match
    # across the space that joins two columns.
    return Proposal.title + literal_column("' '") + Proposal.summary + literal_column("' '") + Proposal.description


def _substring_score(term: str):
    pattern = _like_pattern(term)
    return case(*((col.ilike(pattern, escape="\\"), literal(w)) for col, w in _COLUMN_WEIGHTS), else_=literal(0.0))


def _match(query, terms: Terms, dialect: str):
    """`query` restricted to proposals matching every term, and its relevance expression (higher is better)."""
    score = literal(0.0, Float)
    substrings = terms.substrings
    if dialect == "sqlite":
        fts = [(table, " ".join(_fts_string(t) + suffix for t in group))
               for table, suffix, group in (
                   ("proposal_fts", "*", terms.words),
                   ("proposal_fts_trigram", "", [t for t in substrings if len(t) >= 3 and any(map(_unspaced, t))]))
               if group]
        for i, (table, expr) in enumerate(fts):
            hits = (text(f"SELECT rowid AS id, {_BM25.format(table=table)} AS score FROM {table} "
                         f"WHERE {table} MATCH :fts_{i}")
                    .bindparams(**{f"fts_{i}": expr}).columns(column("id", Integer), column("score", Float))
                    # Run the MATCH once: as a plain subquery SQLite may loop over the round's proposals
                    # and evaluate the full-text query again for each one (seconds instead of milliseconds).
                    .cte(f"fts_{i}").prefix_with("MATERIALIZED"))
            query = query.join(hits, hits.c.id == Proposal.id)
            score = score - hits.c.score  # bm25 is negative, more negative is better
        substrings = [t for t in substrings if not (len(t) >= 3 and any(map(_unspaced, t)))]
    elif terms.words:
        tsquery = func.to_tsquery(literal_column("'simple'::regconfig"),
                                  " & ".join("'" + w.replace("'", "''") + "':*" for w in terms.words))
        tsv = literal_column(_PG_TSVECTOR)
        query = query.where(tsv.op("@@")(tsquery))
        score = score + func.ts_rank(tsv, tsquery, 1)
    for t in substrings:
        query = query.where(_joined_text().ilike(_like_pattern(t), escape="\\"))
        score = score + _substring_score(t)
    return query, score


def _in_category(category: str, dialect: str):
    if dialect == "postgresql":
        return cast(Proposal.categories, JSONB).contains([category])
    listed = func.json_each(Proposal.categories).table_valued("value")
    return select(literal(1)).select_from(listed).where(listed.c.value == category).exists()


def proposal_page(session: Session, *, round_id: int, district_id: int | None = None, category: str | None = None,
                  status: str | None = None, q: str | None = None, page: int = 1,
                  per_page: int = 20, statuses: Iterable[str] | None = None) -> tuple[list[Proposal], int]:
    """One page of a round's proposals matching the filters and `q`, and how many match in all.

    `statuses`: only proposals in one of these (the public list leaves merged duplicates out)."""
    dialect = session.get_bind().dialect.name
    query = select(Proposal).where(Proposal.round_id == round_id)
    if district_id is not None:
        query = query.where(Proposal.district_id == district_id)
    if status:
        query = query.where(Proposal.status == status)
    if statuses is not None:
        query = query.where(Proposal.status.in_(tuple(statuses)))
    if category:
        query = query.where(_in_category(category, dialect))
    terms = parse(q)
    order = [Proposal.id]
    if terms:
        query, score = _match(query, terms, dialect)
        order = [score.desc(), Proposal.id]
    page, per_page = max(page, 1), max(per_page, 1)
    window = query.order_by(*order).offset((page - 1) * per_page).limit(per_page)
    if terms:
        # Every match is ranked before the page is cut anyway: the total rides along as a window count,
        # so the full-text match runs once. A page past the end has no row to carry it: count apart.
        found = session.execute(window.add_columns(func.count().over().label("total"))).all()
        if found:
            return [row[0] for row in found], int(found[0].total)
        rows = []
    else:
        # Without a query the page is read by id with LIMIT; a window count would read every row first.
        rows = list(session.execute(window).scalars().all())
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    return rows, int(total)


def search_all(session: Session, q: str | None, limit: int = 20, *,
               statuses: Iterable[str] | None = None) -> list[Proposal]:
    """Proposals of every round of every city matching `q`, best first (the home page's search box).

    Only proposals in a public status: pb_engine.proposals.PUBLIC_STATUSES unless `statuses` is given.
    Each proposal carries its round_id; a round's city_id is one lookup away.
    """
    terms = parse(q)
    if not terms or limit < 1:
        return []
    if statuses is None:
        from pb_engine.proposals import PUBLIC_STATUSES  # the domain decides what is public

        statuses = PUBLIC_STATUSES
    query, score = _match(select(Proposal).where(Proposal.status.in_(list(statuses))), terms,
                          session.get_bind().dialect.name)
    return list(session.execute(query.order_by(score.desc(), Proposal.id).limit(limit)).scalars().all())
