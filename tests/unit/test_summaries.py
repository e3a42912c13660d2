"""A summary's numeric counts are summed at one declared scale, so one kept by triggers (adding and
taking away) prints as the same summary counted anew; the kill test compares the two as text."""

from __future__ import annotations

import pytest

from projections.summaries import Summary


def _summary(kind: str) -> Summary:
    return Summary(
        name="changes",
        source="rows",
        columns=(("day", "date"), ("change", kind)),
        key=("day",),
        select=("r.day", "r.change::numeric"),
    )


def test_a_numeric_count_without_a_scale_is_refused() -> None:
    with pytest.raises(ValueError, match=r"changes\.change"):
        _summary("numeric")


def test_each_contribution_is_rounded_to_the_declared_scale_before_it_is_summed() -> None:
    (_, fill) = _summary("numeric(30, 15)").fill("s")
    assert "sum(round(r.change::numeric, 15))" in fill
    kept = "\n".join(_summary("numeric(30, 15)").keep("s"))
    assert "-sum(round(r.change::numeric, 15))" in kept
    assert "sum(round(" not in _summary("bigint").fill("s")[1]
