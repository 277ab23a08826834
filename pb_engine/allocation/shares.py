"""Voters' money during one run of a rule that charges supporters step by step (EES, BOS), exact.

Voters with identical ballots are one group (mes.prepare) and always hold the
same money, so a group holds a *money class*: an id whose exact value never
changes. Charging a project moves its paying groups to new classes (groups of
one class that pay the same move to one new class), so every per-project
figure is a short histogram over classes instead of a pass over voters.

Exact values are gmpy2 `mpq` when installed (else `Fraction`); each class also
has a float copy, within `Wallets.err` of the exact value, which callers may
use to screen, never to decide.
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


class _Values:
    """The exact value of every class, as a read-only sequence; a lazy class's value is worked out when first
    asked (most never are: floats decide everything but close calls)."""

    __slots__ = ("_w",)

    def __init__(self, wallets: "Wallets"):
        self._w = wallets

    def __len__(self) -> int:
        return self._w.n

    def __getitem__(self, k: int):
        return self._w.exact(int(k))


class Wallets:
    """Money class of every group and the exact value of every class.

    A class made by `charge_uniform` stores only its parent class and the price its groups paid; its exact
    value (parent's minus price) is computed when asked, and memoised. Its float is the parent's float minus
    the price's, so floats drift from the exact values by at most `err` (absolute), which every float screen
    of the callers allows for. (EES charges hundreds of classes per step, 0.86 M on Warszawa 2026 with
    cardinality satisfaction: subtracting exact rationals with large denominators for each was most of its
    time, and almost none of those values is ever looked at.)
    """

    def __init__(self, problem: Problem, endowment):
        self.P = problem
        e = Q(endowment)
        self.cls = np.zeros(len(problem.mult), dtype=np.int64)
        self.n = 1
        self.values = _Values(self)
        self._exact: dict = {0: e}
        self._prices: list = []
        cap = 64
        self._floats = np.empty(cap)
        self._parent = np.full(cap, -1, dtype=np.int64)
        self._price = np.zeros(cap, dtype=np.int64)
        self._floats[0] = float(e)
        self._e_f = abs(float(e))
        # bound on |float - exact| of any class: float(e) is correctly rounded; each uniform charge adds the
        # rounding of the price and of the subtraction, each at most half an ulp of a value <= e (+ err)
        self.err = 2.0 ** -52 * self._e_f

    # ------------------------------------------------------------------ classes

    def _grow(self, need: int) -> None:
        cap = len(self._floats)
        if need <= cap:
            return
        cap = max(need, 2 * cap)
        self._floats = np.concatenate([self._floats, np.empty(cap - len(self._floats))])
        self._parent = np.concatenate([self._parent, np.full(cap - len(self._parent), -1, dtype=np.int64)])
        self._price = np.concatenate([self._price, np.zeros(cap - len(self._price), dtype=np.int64)])

    def exact(self, k: int):
        """Exact value of class k."""
        known = self._exact
        v = known.get(k)
        if v is not None:
            return v
        chain = []
        while k not in known:
            chain.append(k)
            k = int(self._parent[k])
        v = known[k]
        prices, price = self._prices, self._price
        for j in reversed(chain):
            v = v - prices[price[j]]
            known[j] = v
        return v

    def new_class(self, value) -> int:
        """A class for `value`. Classes are never merged: two classes may hold the same value, which every
        caller allows (equal values are kept next to each other when ordering)."""
        i = self.n
        self._grow(i + 1)
        self._exact[i] = value
        self._floats[i] = float(value)
        self.n = i + 1
        return i

    def floats(self) -> np.ndarray:
        """Float copy of every class's value, each within `err` of the exact one."""
        return self._floats[: self.n]

    # ------------------------------------------------------------------ per project

    def histogram(self, c: int) -> tuple[np.ndarray, np.ndarray]:
        """Classes held by c's supporters, richest first, and how many supporters hold each (float64, whole)."""
        nz, h, _ = self.histogram_floats(c)
        return nz, h

    def histogram_floats(self, c: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """`histogram` and the classes' floats."""
        P = self.P
        ids = self.cls.take(P.supporters[c])
        if 8 * len(ids) < self.n:
            # few supporters, many classes: sort the supporters by money (then class) and sum runs of one
            # class (a handful of numpy calls: most projects have a few dozen supporter groups)
            vs = self._floats.take(ids)
            o = np.lexsort((ids, -vs))
            ids = ids.take(o)
            w = P.weights_f[c].take(o)
            starts = (ids[1:] != ids[:-1]).nonzero()[0] + 1
            if len(starts) + 1 < len(ids):
                starts = np.concatenate(([0], starts))
                nz, h, vf = ids.take(starts), np.add.reduceat(w, starts), vs.take(o).take(starts)
            else:
                nz, h, vf = ids, w, vs.take(o)
        else:
            counts = np.bincount(ids, weights=P.weights_f[c], minlength=self.n)
            nz = counts.nonzero()[0]
            vf = self._floats.take(nz)
            o = np.argsort(-vf, kind="stable")
            nz, vf, h = nz.take(o), vf.take(o), counts.take(nz.take(o))
        if len(vf) > 1:
            # floats order the classes; values closer than the floats' error are ordered exactly
            near = (vf[:-1] - vf[1:] <= 1e-12 * np.abs(vf[:-1]) + 4 * self.err + 1e-300).nonzero()[0]
            if len(near):
                perm = self._exact_order(nz, near)
                nz, h, vf = nz.take(perm), h.take(perm), vf.take(perm)
        return nz, h, vf

    def _exact_order(self, nz: np.ndarray, near: np.ndarray) -> np.ndarray:
        """Permutation of positions that orders each run of near-equal floats by exact value, richest first."""
        perm = np.arange(len(nz))
        runs: list[list[int]] = []
        for i in near.tolist():
            if runs and runs[-1][-1] == i:
                runs[-1].append(i + 1)
            else:
                runs.append([i, i + 1])
        values = self.values
        for run in runs:
            perm[run] = sorted(run, key=lambda i: values[int(nz[i])], reverse=True)
        return perm

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
        """Exact total money of c's supporters.

        A lazy class's money is its exact ancestor's minus the prices on the way, so the total is the
        exact ancestors' money less, per price, the supporters who paid it: a few exact products per price
        paid instead of an exact value per class (thousands on Warszawa 2026)."""
        cls, n = self.histogram(c)
        cur, cnt = cls, n.astype(np.int64)
        paid = np.zeros(len(self._prices), dtype=np.int64)   # per price: supporters of c who paid it
        total = Q(0)
        while len(cur):
            lazy = self._parent.take(cur) >= 0
            for k, x in zip(cur[~lazy].tolist(), cnt[~lazy].tolist()):
                total += self._exact[k] * x
            cur, cnt = cur[lazy], cnt[lazy]
            np.add.at(paid, self._price.take(cur), cnt)
            cur = self._parent.take(cur)
        for price, x in zip(self._prices, paid.tolist()):
            if x:
                total -= price * x
        return total

    def richest(self, c: int):
        cls, _ = self.histogram(c)
        return self.values[int(cls[0])] if len(cls) else Q(0)

    def charge_classes(self, c: int, classes, payments) -> None:
        """c's supporters holding class classes[j] pay payments[j] (exact, at most what they hold)."""
        n = self.n
        values = self.values
        paying = [(k, pay) for k, pay in zip(classes, payments) if pay != 0]
        need = n + len(paying)
        self._grow(need)
        known = self._exact
        new_values = [values[k] - pay for k, pay in paying]
        for i, v in enumerate(new_values, n):
            known[i] = v
        self._floats[n:need] = [float(v) for v in new_values]
        self.n = need
        remap = np.arange(n, dtype=np.int64)
        if paying:
            remap[np.fromiter((k for k, _ in paying), dtype=np.int64, count=len(paying))] = np.arange(n, need)
        sup = self.P.supporters[c]
        self.cls[sup] = remap.take(self.cls.take(sup))

    def charge_uniform(self, c: int, classes: np.ndarray, price) -> None:
        """c's supporters holding any of `classes` (distinct) each pay `price` (exact, > 0, at most what they
        hold). The new classes are lazy: parent and price only (see the class's note)."""
        n = self.n
        need = n + len(classes)
        self._grow(need)
        classes = np.asarray(classes, dtype=np.int64)
        self._parent[n:need] = classes
        self._price[n:need] = len(self._prices)
        self._prices.append(price)
        self._floats[n:need] = self._floats.take(classes) - float(price)
        self.err += 2.0 ** -51 * (self._e_f + self.err)
        self.n = need
        remap = np.arange(n, dtype=np.int64)
        remap[classes] = np.arange(n, need)
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
