"""Small-number suppression for published tables about people (NHS statistical disclosure control).

A count of 1 to 4 people is shown as "<5" (primary suppression). Where a row's total is published, one
hidden cell could be worked out from the total and the cells shown, and so could hidden cells whose sum
is 1 to 4, so the smallest cells still shown are hidden too, as "*", until the hidden cells together
hold at least 5 people or every cell is hidden (secondary suppression, "complement protection"). A
cell hidden this way is not small: "*" says it is withheld to protect another, never "<5". Zero is
shown (it discloses nobody) unless it must be hidden to protect another cell, after every other. A share (a
proportion of people) is withheld when fewer than 5 people are behind it or its numerator is hidden,
since the share and a published total give the numerator back.

Pure functions over plain numbers; the report applies them once its figures equal the API's.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = [
    "SMALL",
    "SUPPRESSED",
    "TOO_FEW",
    "WITHHELD",
    "Published",
    "published_count",
    "published_row",
    "published_share",
]

SMALL = 5
"""The fewest people a published figure may rest on."""
SUPPRESSED = "<5"
WITHHELD = "*"
"""A count that is not small, hidden so that a "<5" in its row cannot be worked out from the total."""
TOO_FEW = "too few people to show (fewer than 5)"

Published = int | str
"""A count as published: the number, "<5" or "*"."""


def published_count(count: int) -> Published:
    """One count of people on its own: 1 to 4 become "<5"."""
    return SUPPRESSED if 0 < count < SMALL else count


def published_row(cells: Mapping[str, int], total: int) -> tuple[dict[str, Published], Published]:
    """A row of counts of people that add up to ``total``, and the total, as published.

    With the total itself 1 to 4, every cell but the zeros is hidden with it: nothing can be derived.
    """
    if sum(cells.values()) != total:
        raise ValueError("the cells of a row must add up to its total")
    if 0 < total < SMALL:
        return {name: published_count(n) for name, n in cells.items()}, SUPPRESSED
    small = {name for name, n in cells.items() if 0 < n < SMALL}
    hidden = set(small)
    while hidden and _derivable(cells, hidden):
        # The smallest count above zero first (a zero hidden protects nothing), zeros last.
        shown = sorted((n == 0, n, name) for name, n in cells.items() if name not in hidden)
        if not shown:
            break
        hidden.add(shown[0][2])
    return {name: _mark(n, name in small, name in hidden) for name, n in cells.items()}, total


def _mark(count: int, small: bool, hidden: bool) -> Published:
    return SUPPRESSED if small else WITHHELD if hidden else count


def _derivable(cells: Mapping[str, int], hidden: set[str]) -> bool:
    """Whether the hidden cells give away a small number: one alone is its total's remainder, and a
    group whose sum is 1 to 4 tells that few people are in it."""
    together = sum(cells[name] for name in hidden)
    return len(hidden) == 1 or 0 < together < SMALL


def published_share(numerator: Published, denominator: Published, share: float | None) -> float | None:
    """A share as published: None (say ``TOO_FEW``) when it rests on fewer than 5 people or its
    numerator is hidden."""
    if share is None or not isinstance(numerator, int) or not isinstance(denominator, int):
        return None
    return share if denominator >= SMALL else None
