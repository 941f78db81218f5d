"""The life of a package of care, as a state machine.

::

    received --offer to a provider--> offered --provider accepts--> accepted --place--> placed
                                         |                                                 |
                                         +--provider declines--> declined                end
                                                                    |                      v
                                          (offer to another provider, or place)         ended

A referral is *waiting* while received, offered, accepted or declined: those make the waiting
list and the waiting report. A broker may place a received or declined referral directly (the
framework's call-off, when the provider's runs on record have room); an accepted one is placed
with the provider that accepted. A waiting referral may be withdrawn (no longer needed).
Anything else is an illegal transition, answered with 409 naming the states it is allowed from.
"""

from __future__ import annotations

from enum import StrEnum

from api.problems import ConflictError


class State(StrEnum):
    """Where a package is in its life."""

    RECEIVED = "received"
    OFFERED = "offered"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    PLACED = "placed"
    ENDED = "ended"
    WITHDRAWN = "withdrawn"


WAITING = frozenset({State.RECEIVED, State.OFFERED, State.ACCEPTED, State.DECLINED})
"""States in which a referral is on the waiting list."""

EDITABLE = frozenset({State.RECEIVED, State.DECLINED})
"""States in which a referral's details may change (no offer is out with a provider)."""

TRANSITIONS: dict[State, frozenset[State]] = {
    State.RECEIVED: frozenset({State.OFFERED, State.PLACED, State.WITHDRAWN}),
    State.OFFERED: frozenset({State.ACCEPTED, State.DECLINED, State.WITHDRAWN}),
    State.ACCEPTED: frozenset({State.PLACED, State.WITHDRAWN}),
    State.DECLINED: frozenset({State.OFFERED, State.PLACED, State.WITHDRAWN}),
    State.PLACED: frozenset({State.ENDED}),
    State.ENDED: frozenset(),
    State.WITHDRAWN: frozenset(),
}

_VERBS = {
    State.OFFERED: "offered to a provider",
    State.ACCEPTED: "accepted",
    State.DECLINED: "declined",
    State.PLACED: "placed",
    State.ENDED: "ended",
    State.WITHDRAWN: "withdrawn",
}


def check_transition(package_id: str, current: str, target: State) -> None:
    """Raise :class:`~api.problems.ConflictError` unless ``current -> target`` is allowed."""
    state = State(current)
    if target in TRANSITIONS[state]:
        return
    allowed_from = sorted(s.value for s, targets in TRANSITIONS.items() if target in targets)
    msg = (
        f"package {package_id} is {state.value}, so it cannot be {_VERBS[target]} "
        f"(only from: {', '.join(allowed_from)})"
    )
    raise ConflictError(msg)
