"""Small-number suppression: counts of 1 to 4 people show as "<5", a hidden count cannot be worked out
from its row's total (secondary suppression), and shares resting on fewer than 5 people are withheld."""

from __future__ import annotations

import itertools

import pytest

from projections.suppression import (
    SUPPRESSED,
    WITHHELD,
    Published,
    published_count,
    published_row,
    published_share,
)


@pytest.mark.parametrize(("count", "shown"), [(0, 0), (1, "<5"), (3, "<5"), (4, "<5"), (5, 5), (120, 120)])
def test_one_count_of_1_to_4_shows_as_fewer_than_5(count: int, shown: Published) -> None:
    assert published_count(count) == shown


def test_a_row_with_no_small_count_is_shown_whole() -> None:
    assert published_row({"a": 5, "b": 0, "c": 12}, 17) == ({"a": 5, "b": 0, "c": 12}, 17)


def test_a_lone_small_count_takes_the_next_smallest_with_it() -> None:
    """3 of 20 alone hidden would be 20 - 5 - 12; the 5 is hidden too, as "*" (it is not small)."""
    cells, total = published_row({"improved": 3, "no_change": 12, "deteriorated": 5}, 20)
    assert cells == {"improved": SUPPRESSED, "no_change": 12, "deteriorated": WITHHELD}
    assert total == 20


def test_two_small_counts_summing_below_5_are_protected_by_a_third() -> None:
    cells, _ = published_row({"a": 1, "b": 2, "c": 30, "d": 9}, 42)
    assert cells == {"a": SUPPRESSED, "b": SUPPRESSED, "c": 30, "d": WITHHELD}


def test_two_small_counts_summing_to_5_or_more_protect_each_other() -> None:
    cells, _ = published_row({"a": 3, "b": 4, "c": 30}, 37)
    assert cells == {"a": SUPPRESSED, "b": SUPPRESSED, "c": 30}


def test_zeros_are_hidden_only_after_every_other_count() -> None:
    cells, _ = published_row({"a": 3, "b": 0, "c": 10}, 13)
    assert cells == {"a": SUPPRESSED, "b": 0, "c": WITHHELD}


def test_a_small_total_hides_every_count_but_zeros() -> None:
    assert published_row({"a": 3, "b": 0, "c": 1}, 4) == ({"a": "<5", "b": 0, "c": "<5"}, "<5")


def test_cells_that_do_not_add_up_to_the_total_are_refused() -> None:
    with pytest.raises(ValueError, match="add up"):
        published_row({"a": 3}, 4)


@pytest.mark.parametrize("cells", list(itertools.product(range(8), repeat=3)))
def test_no_hidden_count_can_be_worked_out_from_the_total(cells: tuple[int, int, int]) -> None:
    """Every row of three counts 0-7: the hidden cells together are never 1 to 4, and never one alone."""
    row = dict(zip("abc", cells, strict=True))
    shown, total = published_row(row, sum(cells))
    assert all(shown[k] == SUPPRESSED for k, n in row.items() if 0 < n < 5)
    if total == SUPPRESSED:
        return
    hidden = [n for k, n in row.items() if shown[k] in (SUPPRESSED, WITHHELD)]
    assert len(hidden) != 1
    assert not 0 < sum(hidden) < 5
    assert all(shown[k] == n for k, n in row.items() if shown[k] not in (SUPPRESSED, WITHHELD))


@pytest.mark.parametrize(
    ("numerator", "denominator", "share", "shown"),
    [
        (6, 10, 0.6, 0.6),
        (0, 5, 0.0, 0.0),
        (SUPPRESSED, 20, 0.15, None),
        (WITHHELD, 20, 0.3, None),
        (SUPPRESSED, SUPPRESSED, 0.5, None),
        (6, 6, None, None),
    ],
)
def test_a_share_is_withheld_below_5_people_or_when_its_numerator_is_hidden(
    numerator: Published, denominator: Published, share: float | None, shown: float | None
) -> None:
    assert published_share(numerator, denominator, share) == shown


def test_a_share_of_4_people_is_withheld_even_with_counts_shown() -> None:
    assert published_share(0, 4, 0.0) is None
