"""Similar proposals from other rounds (other cities, other years), with what became of them.

Candidates share a shared category (pb_engine.taxonomy) with the proposal and lie in its cost band
or a neighbouring one (pb_engine.queries.proposals_across.BANDS; a proposal without a cost or rate
is not held to a band). Among them, text similarity decides: scikit-learn's TfidfVectorizer on
character n-grams within words (2 to 4), cosine of the l2-normalised vectors. Character n-grams need
no language-specific tokeniser or stemmer, so "plac zabaw" / "place de jeux" / "遊戲場" are each
matched within their language, and Polish inflections ("drzew", "drzewa") share most n-grams.

The fitted model is kept per process and refitted when the public proposals change (their count,
last id, last update): a page of proposals asks for it many times between changes.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, select

from pb_engine.analysis.currency import Rates
from pb_engine.proposals import PUBLIC_STATUSES
from pb_engine.queries import proposals_across as across
from pb_engine.store.tables import Proposal

LIMIT = 5
MIN_SCORE = 0.15       # below this, shared n-grams are mostly common syllables, not a shared idea
TEXT_CHARS = 1000      # of the description: the title and summary say most of it


@dataclass(frozen=True)
class Similar:
    row: across.Row
    score: float

    @property
    def fate(self) -> str:
        """built | funded | not_funded | on_ballot | submitted (and implementation in progress: funded)."""
        r = self.row
        if r.stage == "built":
            return "built"
        if r.funded_official:
            return "funded"
        if r.funded_official is False and r.stage != "submitted":
            return "not_funded"
        return r.stage


class _Model:
    def __init__(self, key, ids, matrix):
        self.key, self.ids, self.matrix = key, ids, matrix
        self.index = {pid: i for i, pid in enumerate(ids)}


_model: _Model | None = None
_lock = threading.Lock()


def _key(session: Session) -> tuple:
    n, last, changed = session.exec(select(func.count(Proposal.id), func.max(Proposal.id), func.max(Proposal.updated_at))
                                    .where(Proposal.status.in_(PUBLIC_STATUSES))).one()
    return int(n or 0), int(last or 0), str(changed)


def text_of(title: str, summary: str, description: str) -> str:
    return " ".join(x for x in (title, title, summary, (description or "")[:TEXT_CHARS]) if x)  # the title weighs double


def fit(texts: list[str]):
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer

    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True, lowercase=True, dtype=np.float32)
    return vec.fit_transform(texts)


def model(session: Session) -> _Model:
    global _model
    key = _key(session)
    with _lock:
        if _model is not None and _model.key == key:
            return _model
    rows = session.exec(select(Proposal.id, Proposal.title, Proposal.summary, func.substr(Proposal.description, 1, TEXT_CHARS))
                        .where(Proposal.status.in_(PUBLIC_STATUSES)).order_by(Proposal.id)).all()
    ids = [r[0] for r in rows]
    matrix = fit([text_of(r[1], r[2] or "", r[3] or "") for r in rows]) if rows else None
    m = _Model(key, ids, matrix)
    with _lock:
        _model = m
    return m


def _near(a: str | None, b: str | None) -> bool:
    if a is None or b is None:
        return True
    return abs(across.BAND_SLUGS.index(a) - across.BAND_SLUGS.index(b)) <= 1


def similar(session: Session, proposal_id: int, rates: Rates, *, now, currency: str | None = None,
            limit: int = LIMIT) -> list[Similar]:
    """The proposals of other rounds most like this one, best first (empty for a proposal without a
    shared category: there is nothing to compare it with fairly)."""
    p = session.get(Proposal, proposal_id)
    if p is None:
        return []
    # Only rows sharing a category are candidates: reading them alone keeps a proposal page cheap.
    everything = across.rows(session, across.Filters(currency=currency or rates.base), rates, now=now,
                             any_terms=across.terms_of(session, p))
    me = next((r for r in everything if r.proposal_id == proposal_id), None)
    if me is None or not me.terms:
        return []
    pool = [r for r in everything if r.ref != me.ref and set(r.terms) & set(me.terms) and _near(r.cost_band, me.cost_band)]
    m = model(session)
    if m.matrix is None or proposal_id not in m.index:
        return []
    pool = [r for r in pool if r.proposal_id in m.index]
    if not pool:
        return []
    scores = (m.matrix[[m.index[r.proposal_id] for r in pool]] @ m.matrix[m.index[proposal_id]].T).toarray().ravel()
    ranked = sorted(((float(s), r) for s, r in zip(scores, pool) if s >= MIN_SCORE),
                    key=lambda x: (-x[0], x[1].proposal_id))[:limit]
    return [Similar(r, round(s, 4)) for s, r in ranked]


__all__ = ["Similar", "similar", "model", "fit", "text_of"]
