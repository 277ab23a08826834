"""Method of equal shares (MES) with its completions. Work in progress."""

from __future__ import annotations

from pb_engine.allocation.registry import register


@register("mes")
def mes_rule(instance, profile, options, tie):
    raise NotImplementedError("mes: being written")
