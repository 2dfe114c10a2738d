"""Monetary value of an ecosystem asset: the net present value of its service flows.

SEEA EA 2021 §10.4 values an asset as the NPV of the expected flows of its services over
the asset life, discounted at rate r, with each year's flow at the **end** of the year:

    NPV = Σ_{t=1..n} F / (1 + r)^t = F · (1 − (1 + r)^(−n)) / r      (ordinary annuity)

Several Chinese ecological-asset studies count the first year's flow undiscounted
(博文静 et al. 2017, 生态学报 37(12), Eq. 3: Σ_{i=1..n} F / (1 + r)^(i−1)), an annuity-due,
(1 + r) times larger. The timing is therefore an explicit input.
"""

from __future__ import annotations

from typing import Literal

Timing = Literal["end", "beginning"]


def annuity_factor(rate: float, years: int, timing: Timing = "end") -> float:
    """Present value of 1 per year for ``years`` years at ``rate`` (0.02 = 2 %) [-].

    ``timing="end"``: flows at the end of each year (SEEA EA); ``"beginning"``: the first
    flow now (annuity-due, Bo et al. 2017 Eq. 3).
    """
    if years < 0:
        raise ValueError("years must be >= 0")
    factor = float(years) if rate == 0 else (1 - (1 + rate) ** -years) / rate
    return factor * (1 + rate) if timing == "beginning" else factor


def npv(flow: float, rate: float, years: int, timing: Timing = "end") -> float:
    """NPV of a constant annual ``flow`` [currency] (see :func:`annuity_factor`)."""
    return flow * annuity_factor(rate, years, timing)
