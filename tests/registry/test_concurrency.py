"""32 clients (threads) race transfers and retirements over the same blocks, on SQLite and
PostgreSQL: exactly the affordable number succeed, invariants hold, the log replays."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from typing import Any

from hesuan.registry.domain.codes import RegistryRejection, Rejection

from .conftest import World, assert_sound, balance

CLIENTS = 32


def _race(fn: Any) -> Counter[str]:
    barrier = threading.Barrier(CLIENTS)
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def run(i: int) -> None:
        barrier.wait()
        try:
            fn(i)
            result = "ok"
        except RegistryRejection as exc:
            result = exc.code.value
        with lock:
            outcomes[result] += 1

    threads = [threading.Thread(target=run, args=(i,)) for i in range(CLIENTS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=120)
    assert sum(outcomes.values()) == CLIENTS, outcomes
    return outcomes


def test_racing_transfers_and_retirements_never_overspend(world: World) -> None:
    w, reg = world, world.reg
    # 730 units in one block; 32 clients each move 30 (half transfer, half retire):
    # exactly 24 can be afforded (720), 8 must be refused.
    def op(i: int) -> None:
        if i % 2:
            reg.transfer(w.proponent, uuid.uuid4().hex, from_account=w.proponent_account,
                         to_account=w.holder_account, quantity=30)
        else:
            reg.retire(w.proponent, uuid.uuid4().hex, from_account=w.proponent_account,
                       quantity=30, beneficiary="B", purpose="voluntary",
                       claim_start="2024-01-01", claim_end="2024-12-31")

    outcomes = _race(op)
    assert outcomes == Counter({"ok": 24, Rejection.quantity_must_not_exceed_balance.value: 8})
    assert balance(reg, w.proponent_account) == 10
    assert balance(reg, w.holder_account) + balance(reg, w.meta["retirement"]) == 720
    assert_sound(reg)


def test_racing_for_one_serial_range_exactly_one_wins(world: World) -> None:
    w, reg = world, world.reg

    def op(i: int) -> None:
        reg.transfer(w.proponent, uuid.uuid4().hex, from_account=w.proponent_account,
                     to_account=w.holder_account if i % 2 else w.holder2_account,
                     quantity=10, serial_start=101, serial_end=110)

    outcomes = _race(op)
    assert outcomes == Counter(
        {"ok": 1, Rejection.serial_range_must_lie_in_one_held_block.value: 31})
    assert balance(reg, w.holder_account) + balance(reg, w.holder2_account) == 10
    assert_sound(reg)


def test_racing_retries_of_one_key_take_effect_once(world: World) -> None:
    w, reg = world, world.reg
    results: list[dict[str, Any]] = []

    def op(_: int) -> None:
        results.append(reg.transfer(w.proponent, "same-key", from_account=w.proponent_account,
                                    to_account=w.holder_account, quantity=5))

    outcomes = _race(op)
    assert outcomes == Counter({"ok": CLIENTS})
    assert len({str(r["blocks"]) for r in results}) == 1
    assert balance(reg, w.holder_account) == 5
    assert_sound(reg)
