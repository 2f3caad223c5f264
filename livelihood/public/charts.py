"""Geometry for the server-rendered SVG charts: numbers in, coordinates out.

Templates draw with SVG attributes only (no inline styles, no scripts), so the page works
under a strict Content-Security-Policy and without JavaScript; every chart has its numbers in a
table beside it.
"""

from dataclasses import dataclass
from decimal import Decimal

WIDTH = 480
HEIGHT = 240
LEFT = 56
RIGHT = 16
TOP = 16
BOTTOM = 40


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    label: str
    value: Decimal | None


@dataclass(frozen=True)
class LineChart:
    width: int
    height: int
    actual: list[Point]
    expected: list[Point]
    gridlines: list[tuple[float, str]]
    baseline_y: float

    @property
    def actual_points(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.actual if p.value is not None)

    @property
    def expected_points(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.expected if p.value is not None)


def progress_chart(
    labels: list[str], actual: list[Decimal | None], expected: list[Decimal | None]
) -> LineChart | None:
    """Monthly progress against 序时进度, both as fractions; the y axis reaches 100% or the
    largest value, whichever is higher, so over-completion stays visible."""
    if not labels:
        return None
    values = [v for v in [*actual, *expected] if v is not None]
    top = max([Decimal(1), *values])
    top = Decimal(int(top * 4) + (0 if top * 4 == int(top * 4) else 1)) / 4  # round up to 25%
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(labels) - 1, 1)

    def y(value: Decimal) -> float:
        return TOP + plot_h * (1 - float(value / top))

    def points(series):
        return [
            Point(
                LEFT + index * step,
                y(value) if value is not None else 0.0,
                labels[index],
                value,
            )
            for index, value in enumerate(series)
        ]

    gridlines = []
    mark = Decimal(0)
    while mark <= top:
        gridlines.append((y(mark), f"{int(mark * 100)}%"))
        mark += Decimal("0.25")
    return LineChart(
        width=WIDTH,
        height=HEIGHT,
        actual=points(actual),
        expected=points(expected),
        gridlines=gridlines,
        baseline_y=y(Decimal(0)),
    )
