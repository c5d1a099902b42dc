"""Charts as SVG made on the server: nothing to load, sharp on a phone and on paper, and
each drawn next to a table of the same figures for screen readers."""

from markupsafe import Markup, escape

from tracker.dashboard.queries import Week

WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 640, 220, 36, 28, 12


def weekly_bars(weeks: list[Week], title: str, label_of) -> Markup:
    """A bar per week; `label_of(week)` gives the axis label (a short date)."""
    peak = max((week.delivered for week in weeks), default=0) or 1
    inner_w, inner_h = WIDTH - LEFT - 8, HEIGHT - BOTTOM - TOP
    step = inner_w / max(len(weeks), 1)
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(title)}" preserveAspectRatio="xMidYMid meet">',
        f"<title>{escape(title)}</title>",
        f'<line x1="{LEFT}" y1="{TOP + inner_h}" x2="{WIDTH - 8}" y2="{TOP + inner_h}" '
        'class="axis"/>',
        f'<text x="{LEFT - 6}" y="{TOP + 4}" class="tick" text-anchor="end">{peak}</text>',
        f'<text x="{LEFT - 6}" y="{TOP + inner_h}" class="tick" text-anchor="end">0</text>',
    ]
    for n, week in enumerate(weeks):
        height = inner_h * week.delivered / peak
        x = LEFT + n * step + step * 0.15
        y = TOP + inner_h - height
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{step * 0.7:.1f}" height="{height:.1f}" '
            f'class="bar"><title>{escape(label_of(week))}: {week.delivered}</title></rect>'
        )
        if week.delivered:
            parts.append(
                f'<text x="{x + step * 0.35:.1f}" y="{y - 3:.1f}" class="value" '
                f'text-anchor="middle">{week.delivered}</text>'
            )
        if n % 2 == 0:
            parts.append(
                f'<text x="{x + step * 0.35:.1f}" y="{HEIGHT - 8}" class="tick" '
                f'text-anchor="middle">{escape(label_of(week))}</text>'
            )
    parts.append("</svg>")
    # Every text inside was escaped above; the rest are numbers we formatted.
    return Markup("".join(parts))  # noqa: S704
