"""What the classroom tests' simulated participants answer (tests/test_classroom*.py)."""

from __future__ import annotations

from typing import Any


def choice(decision: str, seen: dict[str, Any]) -> dict[str, Any]:
    """What a bot sends: choices unlike the rule's, so that they show in the run."""
    if decision == "diversion":
        return {"share": 0.5}
    if decision == "aid":  # everything to the first registered household
        return {"amounts": [1.0] + [0.0] * (len(seen["households"]) - 1)}
    if decision == "visits":
        return {"visit": list(range(seen["capacity"]))[::-1]}
    if decision == "challenge":
        return {"act": [v["household"] for v in seen["visited"]][::2]}
    if decision in ("proposal", "team_listing"):
        return {"list": seen["eligible"][:min(8, seen["quota"] or 8)]}
    if decision == "complaint":
        return {"complain": [h["household"] for h in seen["households"]
                             if not h["listed"] and h["eligible"]]}
    if decision == "report":  # a neighbour on the list, if any
        return {"report": [h for h in seen["listed"] if h not in seen["households"]][:1]}
    if decision == "kin_request":  # pride: never ask
        return {"ask": []}
    if decision == "share":  # keep half of what the visits found
        return {"share": [f["household"] for f in seen["findings"]][::2]}
    if decision == "accounts":  # the chair's account only
        return {"examine": [0]}
    return {"audit": True}
