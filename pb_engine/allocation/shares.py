"""Voters' money during one run of a rule that charges supporters step by step (EES, BOS), exact.

Voters with identical ballots are one group (mes.prepare) and always hold the
same money, so a group holds a *money class*: an id whose exact value never
changes. Charging a project moves its paying groups to new classes; equal
values share one class, so the number of classes stays small (a few hundred on
the largest Pabulib files) and every per-project figure is a short histogram
over classes instead of a pass over voters.

Exact values are gmpy2 `mpq` when installed (else `Fraction`); each class also
has a float copy, which callers may use to screen, never to decide.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from pb_engine.allocation.mes_engine import Q, Problem, to_fraction


@dataclass
class Entries:
    """A project's supporters by (money class, units): `voters` of them hold class `cls` and give it `units`."""

    cls: np.ndarray      # class ids (int64)
    units: np.ndarray    # units per supporter (int64; 1 for approval-like projects)
    voters: np.ndarray   # supporters in the entry (int64)
    inverse: np.ndarray  # entry of each supporter group of the project (aligned with Problem.supporters[c])


class Wallets:
    """Money class of every group and the exact value of every class."""

    def __init__(self, problem: Problem, endowment):
        self.P = problem
        e = Q(endowment)
        self.cls = np.zeros(len(problem.mult), dtype=np.int64)
        self.values: list = [e]
        self._floats = np.empty(64)
        self._floats[0] = float(e)

    # ------------------------------------------------------------------ classes

    def new_class(self, value) -> int:
        """A class for `value`. Classes are never merged: two classes may hold the same value, which every
        caller allows (equal values are kept next to each other when ordering)."""
        i = len(self.values)
        self.values.append(value)
        if i >= len(self._floats):
            self._floats = np.concatenate([self._floats, np.empty(len(self._floats))])
        self._floats[i] = float(value)
        return i

    def floats(self) -> np.ndarray:
        return self._floats[: len(self.values)]

    # ------------------------------------------------------------------ per project

    def histogram(self, c: int) -> tuple[np.ndarray, np.ndarray]:
        """Classes held by c's supporters, richest first, and how many supporters hold each (float64, whole)."""
        P = self.P
        ids = self.cls.take(P.supporters[c])
        if 8 * len(ids) < len(self.values):   # few supporters, many classes: sort them rather than count all
            nz, inv = np.unique(ids, return_inverse=True)
            h = np.zeros(len(self.values))
            h[nz] = np.bincount(inv.reshape(-1), weights=P.weights_f[c])
        else:
            h = np.bincount(ids, weights=P.weights_f[c], minlength=len(self.values))
            nz = np.flatnonzero(h)
        vf = self._floats.take(nz)
        o = np.argsort(-vf, kind="stable")
        nz, vf = nz.take(o), vf.take(o)
        if len(vf) > 1:
            # floats order the classes; values closer than float accuracy are ordered exactly
            near = np.flatnonzero(vf[:-1] - vf[1:] <= 1e-12 * np.abs(vf[:-1]) + 1e-300)
            if len(near):
                nz = self._exact_order(nz, near)
        return nz, h.take(nz)

    def _exact_order(self, nz: np.ndarray, near: np.ndarray) -> np.ndarray:
        nz = nz.copy()
        runs: list[list[int]] = []
        for i in near.tolist():
            if runs and runs[-1][-1] == i:
                runs[-1].append(i + 1)
            else:
                runs.append([i, i + 1])
        for run in runs:
            ids = sorted(nz[run].tolist(), key=lambda k: self.values[k], reverse=True)
            nz[run] = ids
        return nz

    def entries(self, c: int) -> Entries:
        """c's supporters by (class, units), for projects whose supporters give different units."""
        P = self.P
        sup = P.supporters[c]
        ids = self.cls.take(sup)
        units = P.utils_int[c]
        if units is None:
            units = np.ones(len(sup), dtype=np.int64)
        base = int(units.max()) + 1 if len(units) else 1
        uniq, inv = np.unique(ids * base + units, return_inverse=True)
        key_cls, u = np.divmod(uniq, base)
        voters = np.bincount(inv, weights=P.mult.take(sup), minlength=len(uniq)).astype(np.int64)
        return Entries(key_cls.astype(np.int64), u.astype(np.int64), voters, inv.reshape(-1))

    def money(self, c: int):
        """Exact total money of c's supporters."""
        cls, n = self.histogram(c)
        total = Q(0)
        for k, x in zip(cls.tolist(), n.tolist()):
            total += self.values[k] * int(x)
        return total

    def richest(self, c: int):
        cls, _ = self.histogram(c)
        return self.values[int(cls[0])] if len(cls) else Q(0)

    def charge_classes(self, c: int, classes, payments) -> None:
        """c's supporters holding class classes[j] pay payments[j] (exact, at most what they hold)."""
        n = len(self.values)
        values = self.values
        # in bulk: EES charges hundreds of classes per step (Warszawa 2026, cardinality: 0.8 M new classes)
        paying = [(k, pay) for k, pay in zip(classes, payments) if pay != 0]
        new_values = [values[k] - pay for k, pay in paying]
        values.extend(new_values)
        need = len(values)
        if need > len(self._floats):
            self._floats = np.concatenate([self._floats, np.empty(max(need, 2 * len(self._floats)) - len(self._floats))])
        self._floats[n:need] = [float(v) for v in new_values]
        remap = np.arange(n, dtype=np.int64)
        if paying:
            remap[np.fromiter((k for k, _ in paying), dtype=np.int64, count=len(paying))] = np.arange(n, need)
        sup = self.P.supporters[c]
        self.cls[sup] = remap.take(self.cls.take(sup))

    def charge(self, c: int, ent: Entries, payments: list) -> None:
        """Every supporter in entry j pays `payments[j]` (exact, at most her money); moves groups to new classes."""
        new = np.empty(len(payments), dtype=np.int64)
        for j, (k, pay) in enumerate(zip(ent.cls.tolist(), payments)):
            new[j] = k if pay == 0 else self.new_class(self.values[k] - pay)
        self.cls[self.P.supporters[c]] = new.take(ent.inverse)


def exact(x) -> Fraction:
    return to_fraction(x)
