"""SVG geometry for the report's XmR charts: the monthly points, mean and process limits, special-cause
points marked as improvement or concern ("Making Data Count" colours), drawn on the server."""

from __future__ import annotations

from dataclasses import dataclass

from projections.spc import XmRChart

__all__ = ["SpcDrawing", "draw"]

WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 720, 260, 56, 704, 16, 216


@dataclass(frozen=True)
class SpcPoint:
    x: float
    y: float
    label: str
    value: float
    kind: str
    """common, improvement or concern."""


@dataclass(frozen=True)
class SpcDrawing:
    """One XmR chart as SVG coordinates, its limits as lines and its points as marks."""

    points: list[SpcPoint]
    mean: list[tuple[float, float]]
    upper: list[tuple[float, float]]
    lower: list[tuple[float, float]]
    y_ticks: list[tuple[float, str]]

    def line(self) -> list[tuple[float, float]]:
        """The points joined in month order."""
        return [(p.x, p.y) for p in self.points]

    def path(self, line: list[tuple[float, float]]) -> str:
        return " ".join(f"{'M' if i == 0 else 'L'}{x:.1f} {y:.1f}" for i, (x, y) in enumerate(line))


def draw(chart: XmRChart, *, higher_is_better: bool) -> SpcDrawing | None:
    """None for a chart with no points."""
    if not chart.points:
        return None
    values = [v for p in chart.points for v in (p.value, p.upper, p.lower)]
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    step = (RIGHT - LEFT) / max(len(chart.points) - 1, 1)

    def y(value: float) -> float:
        return BOTTOM - (value - low) / span * (BOTTOM - TOP)

    xs = [LEFT + i * step for i in range(len(chart.points))]
    marks = [
        SpcPoint(x, y(p.value), p.label, p.value, _kind(p.special_cause, p.value > p.mean, higher_is_better))
        for x, p in zip(xs, chart.points, strict=True)
    ]
    ticks = [(y(v), f"{v:.3g}") for v in (low, (low + high) / 2, high)]
    return SpcDrawing(
        points=marks,
        mean=[(x, y(p.mean)) for x, p in zip(xs, chart.points, strict=True)],
        upper=[(x, y(p.upper)) for x, p in zip(xs, chart.points, strict=True)],
        lower=[(x, y(p.lower)) for x, p in zip(xs, chart.points, strict=True)],
        y_ticks=ticks,
    )


def _kind(special: bool, high: bool, higher_is_better: bool) -> str:
    if not special:
        return "common"
    return "improvement" if high == higher_is_better else "concern"
