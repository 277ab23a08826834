"""Blurred floats for the MES engine: they may then only screen, never decide (see mes_engine.py)."""

from __future__ import annotations

import numpy as np

from pb_engine.allocation import mes_engine as E


def blur_floats(mp, blur: float, seed: int) -> None:
    """With monkeypatch `mp`: after every payment each float money value is off by up to blur/2 of the
    endowment, and delta() says so."""
    rng = np.random.default_rng(seed)
    real_pay = E._pay

    def blurred_pay(P, c, price, money, money_id, ctx, rich, trace):
        step = real_pay(P, c, price, money, money_id, ctx, rich, trace)
        n = money.size
        exact = np.array([float(money.exact(i)) for i in range(2, n)])
        money.vals_f[2:n] = exact + rng.uniform(-0.5, 0.5, n - 2) * blur * money.e_f
        return step

    mp.setattr(E, "_pay", blurred_pay)
    mp.setattr(E._Money, "delta", lambda self: blur * self.e_f)
