"""Habitat quality as a condition variable of the SEEA EA condition account.

The mean habitat quality Q̄_j of a class (an ecosystem type) is its variable; its reference
levels are 0 (poor: fully degraded) and H_j (good: the class's quality without any threat,
since Q_xj = H_j when D_xj = 0, user guide "Habitat quality"), so the SEEA indicator
I = (V − V_L)/(V_H − V_L) (SEEA EA 2021 §5.61, :func:`hesuan.land.seea.condition.rescale`) is
Q̄_j / H_j. The condition typology class is a choice of the compiler; the default is C1
(landscape characteristics: the model scores the pressure of nearby threats).
"""

from __future__ import annotations

from hesuan.errors import InputError
from hesuan.land.habitat.model import HabitatSummary
from hesuan.land.seea.condition import ECT_CLASSES, ConditionVariable


def condition_variables(opening: HabitatSummary, closing: HabitatSummary,
                        ect_class: str = "C1") -> list[ConditionVariable]:
    """One :class:`ConditionVariable` per habitat class (H_j > 0) of two runs on one legend."""
    if ect_class not in ECT_CLASSES:
        raise InputError.single(f"unknown condition class {ect_class!r}", field="ect_class",
                                expected=" | ".join(ECT_CLASSES))
    close = {c.lucode: c for c in closing.classes}
    out = []
    for c in opening.classes:
        if c.habitat <= 0:
            continue
        other = close.get(c.lucode)
        if other is None or other.habitat != c.habitat:
            raise InputError.single(f"class {c.lucode} ({c.name}) differs or is absent in the "
                                    "closing run", field="lucode",
                                    expected="the same sensitivity table for both runs")
        out.append(ConditionVariable(c.name, ect_class, "habitat_quality", "-",
                                     c.mean_quality, other.mean_quality, 0.0, c.habitat))
    return out
