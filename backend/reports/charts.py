"""The KPI pictures: an indicator's trend against its target, and a split as bars, drawn here as
plain SVG with presentation attributes only (the strict CSP allows no style attribute and no
script). Readable without colour: the target is a dashed line with its value written beside it,
each month a marked point, each bar its figure written at its end; the templates show the same
numbers as a table under each picture (role="img" with a title and a description)."""

from __future__ import annotations

from decimal import Decimal

from markupsafe import Markup, escape

INK = "#1b1f24"
MUTED = "#4a5560"
BRAND = "#0b5394"
LINE = "#c4ccd4"
MONTHS = ("jan", "feb", "mar", "apr", "maj", "jun", "jul", "aug", "sep", "okt", "nov", "dec")


def figure(value: Decimal | float | None, kind: str, unit: str) -> str:
    """A value as the page writes it: '83,4 %', '681 kr', '1 204 st', '0,39 km'; '–' for none."""
    if value is None:
        return "–"
    if kind == "share":
        return f"{float(value) * 100:.1f}".replace(".", ",") + " %"
    if kind == "mean":
        return f"{float(value):,.0f}".replace(",", " ") + " kr"
    if kind == "ratio":
        return f"{float(value):.2f}".replace(".", ",") + f" {unit}"
    return f"{float(value):,.0f}".replace(",", " ") + (f" {unit}" if unit else "")


def month_label(month) -> str:
    return f"{MONTHS[month.month - 1]} {month.year % 100:02d}"


def trend(ident: str, title: str, points: list[tuple[object, float | None]], target: float | None, kind: str, unit: str) -> Markup:
    """A line of monthly values (None: not measured that month, a gap) and the dashed target."""
    width, height, left, right, top, bottom = 640, 220, 56, 30, 16, 40
    known = [v for _, v in points if v is not None]
    top_value = max(known + ([target] if target is not None else []) + [0])
    if kind == "share":
        top_value = 1.0
    top_value = top_value * 1.1 if kind != "share" and top_value else (top_value or 1.0)
    span_x = (width - left - right) / max(len(points) - 1, 1)

    def x(i: int) -> float:
        return left + i * span_x

    def y(v: float) -> float:
        return top + (height - top - bottom) * (1 - v / top_value)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" class="kpi-chart" '
             f'role="img" aria-labelledby="{ident}"><title id="{ident}">{escape(title)}</title>']
    for share in (0, 0.5, 1):
        v = top_value * share
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="{LINE}"/>')
        parts.append(f'<text x="{left - 6}" y="{y(v) + 4:.1f}" text-anchor="end" font-size="11" fill="{MUTED}">'
                     f'{escape(figure(v, kind, unit))}</text>')
    if target is not None:
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y(target):.1f}" y2="{y(target):.1f}" '
                     f'stroke="{INK}" stroke-width="1.5" stroke-dasharray="6 4"/>')
        parts.append(f'<text x="{width - right}" y="{y(target) - 5:.1f}" text-anchor="end" font-size="12" '
                     f'fill="{INK}">mål {escape(figure(target, kind, unit))}</text>')
    path, segments = [], []
    for i, (_, v) in enumerate(points):
        if v is None:
            if path:
                segments.append(path)
            path = []
            continue
        path.append(f"{x(i):.1f},{y(v):.1f}")
    if path:
        segments.append(path)
    for seg in segments:
        parts.append(f'<polyline points="{" ".join(seg)}" fill="none" stroke="{BRAND}" stroke-width="2.5"/>')
    for i, (month, v) in enumerate(points):
        if v is not None:
            parts.append(f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="4" fill="{BRAND}" stroke="#fff"/>')
        if i % 2 == (len(points) - 1) % 2:
            parts.append(f'<text x="{x(i):.1f}" y="{height - bottom + 18}" text-anchor="middle" font-size="11" '
                         f'fill="{MUTED}">{escape(month_label(month))}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def bars(ident: str, title: str, rows: list[tuple[str, float | None, str]], target: float | None, kind: str, unit: str) -> Markup:
    """Horizontal bars, one per split value: (label, value or None when suppressed, text)."""
    width, bar, gap, label_width, right = 640, 22, 10, 200, 90
    height = max(len(rows), 1) * (bar + gap) + 24
    known = [v for _, v, _ in rows if v is not None]
    top_value = 1.0 if kind == "share" else max(known + ([target] if target is not None else []) + [0]) or 1.0
    scale = (width - label_width - right) / top_value
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" class="kpi-chart" '
             f'role="img" aria-labelledby="{ident}"><title id="{ident}">{escape(title)}</title>']
    for i, (label, value, text) in enumerate(rows):
        top = i * (bar + gap) + 4
        short = label if len(label) <= 28 else label[:27] + "…"
        parts.append(f'<text x="{label_width - 8}" y="{top + bar * 0.7:.1f}" text-anchor="end" font-size="12" '
                     f'fill="{INK}">{escape(short)}</text>')
        length = (value or 0) * scale
        if value is not None:
            parts.append(f'<rect x="{label_width}" y="{top}" width="{length:.1f}" height="{bar}" fill="{BRAND}"/>')
        parts.append(f'<text x="{label_width + length + 6:.1f}" y="{top + bar * 0.7:.1f}" font-size="12" '
                     f'fill="{INK}">{escape(text)}</text>')
    if target is not None:
        tx = label_width + target * scale
        parts.append(f'<line x1="{tx:.1f}" x2="{tx:.1f}" y1="0" y2="{height - 20}" stroke="{INK}" '
                     f'stroke-width="1.5" stroke-dasharray="6 4"/>')
        parts.append(f'<text x="{tx:.1f}" y="{height - 6}" text-anchor="middle" font-size="12" fill="{INK}">'
                     f'mål {escape(figure(target, kind, unit))}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def cell(value) -> str:
    """A table cell's value as the page shows it (the export keeps the number itself)."""
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.1f}".replace(",", " ").replace(".", ",")
    if isinstance(value, int):
        return f"{value:,}".replace(",", " ")
    return str(value)


# What the KPI templates use to write figures (routes put it in their context).
TEMPLATE_HELPERS = {"kpi_figure": figure, "kpi_cell": cell}
