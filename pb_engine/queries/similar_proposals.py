"""Similar proposals from other rounds (other cities, other years), with what became of them.

Candidates share a shared category (pb_engine.taxonomy) with the proposal and lie in its cost band
or a neighbouring one (pb_engine.queries.proposals_across.BANDS; a proposal without a cost or rate
is not held to a band). Among them, text similarity decides: scikit-learn's TfidfVectorizer on
character n-grams within words (2 to 4), cosine of the l2-normalised vectors. Character n-grams need
no language-specific tokeniser or stemmer, so "plac zabaw" / "place de jeux" / "遊戲場" are each
matched within their language, and Polish inflections ("drzew", "drzewa") share most n-grams.

The fitted model is kept per process. When public proposals change (their count, last id, last update),
the new and edited ones are added with the fitted vocabulary; a full fit follows when many changed or
the fit is an hour old (`model`): a submission day does not refit on every page.
"""

from __future__ import annotations

import threading
import weakref
import time
from dataclasses import dataclass

from sqlalchemy import func, or_
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
    def __init__(self, key, ids, matrix, vectorizer=None, fitted_at=0.0, refreshed=0):
        self.key, self.ids, self.matrix = key, ids, matrix
        self.vectorizer, self.fitted_at, self.refreshed = vectorizer, fitted_at, refreshed
        self.index = {pid: i for i, pid in enumerate(ids)}  # a changed proposal: its newest row


# One model per database (the engine, held weakly): a process serving one database keeps one; tests that
# make a database per test never see another's texts.
_models: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_lock = threading.Lock()
REFIT_AFTER = 3600.0      # seconds: the vocabulary and weights follow new proposals at least hourly
REFRESH_SHARE = 0.1       # more changed texts than this share of the model: fit again at once


def _key(session: Session) -> tuple:
    n, last, changed = session.exec(select(func.count(Proposal.id), func.max(Proposal.id), func.max(Proposal.updated_at))
                                    .where(Proposal.status.in_(PUBLIC_STATUSES))).one()
    return int(n or 0), int(last or 0), changed


def text_of(title: str, summary: str, description: str) -> str:
    return " ".join(x for x in (title, title, summary, (description or "")[:TEXT_CHARS]) if x)  # the title weighs double


def vectorizer():
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True, lowercase=True, dtype=np.float32)


def fit(texts: list[str]):
    return vectorizer().fit_transform(texts)


def _texts(session: Session, *where):
    return session.exec(select(Proposal.id, Proposal.title, Proposal.summary,
                               func.substr(Proposal.description, 1, TEXT_CHARS))
                        .where(Proposal.status.in_(PUBLIC_STATUSES), *where).order_by(Proposal.id)).all()


def model(session: Session) -> _Model:
    """The model of every public proposal. A few new or edited proposals are added with the fitted
    vocabulary and weights (milliseconds); a full fit (about a second for 3 000 proposals) comes when
    many changed or the fit is an hour old."""
    engine = session.get_bind()
    key = _key(session)
    with _lock:
        old = _models.get(engine)
    if old is not None and old.key == key:
        return old
    if old is not None and old.matrix is not None and time.monotonic() - old.fitted_at < REFIT_AFTER:
        _n, last_id, last_change = old.key
        changed = _texts(session, or_(Proposal.id > last_id, Proposal.updated_at > last_change)) \
            if last_change is not None else []
        if len(changed) + old.refreshed <= max(50, REFRESH_SHARE * len(old.ids)):
            from scipy.sparse import vstack

            ids = old.ids + [r[0] for r in changed]
            matrix = vstack([old.matrix, old.vectorizer.transform([text_of(r[1], r[2] or "", r[3] or "")
                                                                    for r in changed])]).tocsr() if changed else old.matrix
            m = _Model(key, ids, matrix, old.vectorizer, old.fitted_at, old.refreshed + len(changed))
            with _lock:
                _models[engine] = m
            return m
    rows = _texts(session)
    vec = vectorizer() if rows else None
    matrix = vec.fit_transform([text_of(r[1], r[2] or "", r[3] or "") for r in rows]) if rows else None
    m = _Model(key, [r[0] for r in rows], matrix, vec, time.monotonic())
    with _lock:
        _models[engine] = m
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
