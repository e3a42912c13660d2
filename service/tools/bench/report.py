"""Benchmark figures: each a median of runs, beside its raw baseline and the ratio, with the target."""

from __future__ import annotations

import os
import platform
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table

__all__ = ["Figure", "Report", "machine"]


@dataclass(frozen=True)
class Figure:
    """One measured figure (median of its runs) and the baseline it is compared with."""

    name: str
    unit: str
    runs: Sequence[float]
    baseline_runs: Sequence[float] = ()
    baseline_name: str = ""
    target: str = ""
    higher_is_better: bool = True

    @property
    def value(self) -> float:
        """The median of the runs."""
        return statistics.median(self.runs)

    @property
    def baseline(self) -> float | None:
        """The median of the baseline runs, if there is a baseline."""
        return statistics.median(self.baseline_runs) if self.baseline_runs else None

    @property
    def ratio(self) -> float | None:
        """Figure relative to baseline, oriented so that 1.0 means as good as the baseline."""
        if self.baseline is None or self.value == 0 or self.baseline == 0:
            return None
        return self.value / self.baseline if self.higher_is_better else self.baseline / self.value


def machine() -> str:
    """A one-line description of the machine the figures were measured on."""
    memory = ""
    if hasattr(os, "sysconf") and "SC_PHYS_PAGES" in os.sysconf_names:
        memory = f", {os.sysconf('SC_PHYS_PAGES') * os.sysconf('SC_PAGE_SIZE') / 2**30:.0f} GiB RAM"
    return (
        f"{platform.machine()} {os.cpu_count()} cores{memory}, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}"
    )


@dataclass
class Report:
    """Figures gathered in one benchmark run."""

    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    started: datetime = field(default_factory=lambda: datetime.now(UTC))

    def add(self, figure: Figure) -> Figure:
        """Record a figure and return it."""
        self.figures.append(figure)
        return figure

    def print(self, console: Console) -> None:
        """Show the figures as a table."""
        table = Table(
            "figure",
            "median",
            "baseline",
            "ratio",
            "target",
            "runs",
            title=f"Waymark benchmarks {self.started:%Y-%m-%d %H:%M} UTC — {machine()}",
        )
        for f in self.figures:
            table.add_row(
                f.name,
                f"{f.value:,.1f} {f.unit}",
                f"{f.baseline:,.1f} {f.unit} ({f.baseline_name})" if f.baseline is not None else "-",
                f"{f.ratio:.2f}x" if f.ratio is not None else "-",
                f.target or "-",
                ", ".join(f"{r:,.1f}" for r in f.runs),
            )
        console.print(table)
        for note in self.notes:
            console.print(f"- {note}")

    def markdown(self) -> str:
        """The figures as a Markdown table, for docs/benchmarks.md."""
        lines = [
            f"### {self.started:%Y-%m-%d %H:%M} UTC — {machine()}",
            "",
            "| figure | median | baseline | ratio | target | runs |",
            "|---|---|---|---|---|---|",
        ]
        for f in self.figures:
            baseline = f"{f.baseline:,.1f} {f.unit} ({f.baseline_name})" if f.baseline is not None else "-"
            ratio = f"{f.ratio:.2f}x" if f.ratio is not None else "-"
            runs = ", ".join(f"{r:,.1f}" for r in f.runs)
            lines.append(
                f"| {f.name} | {f.value:,.1f} {f.unit} | {baseline} | {ratio} | {f.target or '-'} | {runs} |"
            )
        lines += ["", *(f"- {note}" for note in self.notes), ""]
        return "\n".join(lines)

    def append_to(self, path: Path) -> None:
        """Append this run's table to a Markdown file."""
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a") as out:
            out.write(self.markdown() + "\n")
