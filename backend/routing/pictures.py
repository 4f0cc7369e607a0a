"""Pictures of routes: one technician's day as a sketch from the coordinates, a week as a timeline.

Both are plain SVG made here (no map tiles, nothing fetched from anywhere) with presentation
attributes only, so they pass the strict CSP (no style attributes, no script) and need no
stylesheet: the proposal page, the planning board, Min dag and the week page embed them as they
are. Each picture comes with the same facts as table rows (`Picture.rows`), which the templates
show as a table for screen readers and for anyone who prefers figures
(frontend/templates/routing/_pictures.html).

Protected identities (skyddade personuppgifter): a stop in `hidden` is left out of the drawing
and its town is not named, so the sketch does not point at the home; the table says that a
visit is not shown and the day's km still include it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date

from markupsafe import Markup, escape

from backend.routing.model import Place, Route

INK = "#1b1f24"
MUTED = "#4a5560"
BRAND = "#0b5394"
OK = "#1e6b34"
WARN = "#8a5300"
LINE = "#c4ccd4"

WEEKDAYS = ("mån", "tis", "ons", "tor", "fre", "lör", "sön")


@dataclass
class Picture:
    """An SVG and the same facts as a table: `headers` and `rows` (strings), and a caption."""

    svg: Markup
    title: str
    description: str
    headers: list[str]
    rows: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def clock(minutes: int | float) -> str:
    """Minutes after midnight as 24-hour time: 580 -> '09:40'."""
    m = int(round(minutes))
    return f"{m // 60:02d}:{m % 60:02d}"


def km_text(km: float) -> str:
    """Swedish decimal comma, one decimal: 12.34 -> '12,3'."""
    return f"{km:.1f}".replace(".", ",")


def _fmt(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


# --- one day as a sketch ---------------------------------------------------------------------


SKETCH_WIDTH, SKETCH_HEIGHT, PAD = 320, 240, 28


def _projection(points: list[Place]):
    """An equirectangular projection around the points' mean latitude, fitted into the sketch
    with the same scale on both axes (so distances look right), north up."""
    mean_lat = sum(p[0] for p in points) / len(points)
    kx = math.cos(math.radians(mean_lat))
    xs = [p[1] * kx for p in points]
    ys = [p[0] for p in points]
    span_x, span_y = max(xs) - min(xs), max(ys) - min(ys)
    usable_w, usable_h = SKETCH_WIDTH - 2 * PAD, SKETCH_HEIGHT - 2 * PAD
    scale = min(usable_w / span_x if span_x else math.inf, usable_h / span_y if span_y else math.inf)
    if scale == math.inf:
        scale = usable_w / 0.05  # one place only: any scale; a tenth of a degree across
    off_x = PAD + (usable_w - span_x * scale) / 2
    off_y = PAD + (usable_h - span_y * scale) / 2

    def project(p: Place) -> tuple[float, float]:
        return off_x + (p[1] * kx - min(xs)) * scale, off_y + (max(ys) - p[0]) * scale

    return project, scale


def _scale_bar(scale_px_per_degree: float) -> str:
    """A bar of a round number of km in the lower left corner."""
    px_per_km = scale_px_per_degree / 111.32  # a degree of latitude is ~111 km
    if not math.isfinite(px_per_km) or px_per_km <= 0:
        return ""
    km = next((k for k in (0.5, 1, 2, 5, 10, 20, 50, 100, 200) if k * px_per_km >= 40), 500)
    length = km * px_per_km
    y = SKETCH_HEIGHT - 8
    return (f'<line x1="8" y1="{y}" x2="{_fmt(8 + length)}" y2="{y}" stroke="{INK}" stroke-width="2"/>'
            f'<text x="8" y="{y - 4}" font-size="10" fill="{INK}">{escape(_fmt(km).replace(".", ","))} km</text>')


def route_sketch(route: Route, places: dict[int, Place], start: Place, end: Place, *,
                 title: str, towns: dict[int, str] | None = None, labels: dict[int, str] | None = None,
                 hidden: set[int] | frozenset[int] = frozenset(), start_label: str = "Start",
                 end_label: str = "Slut") -> Picture:
    """One technician-day: the start place, the stops in order (numbered), the end place, the
    driving between them as straight lines, towns named at the mean of their stops, and a scale
    bar. `places` and `towns` are by order id; `labels` (by order id) name a stop in the table
    (e.g. the order number); stops in `hidden` (protected identities) are neither drawn nor named."""
    towns, labels = towns or {}, labels or {}
    shown = [s for s in route.stops if s.order_id not in hidden and s.order_id in places]
    points = [start, end] + [places[s.order_id] for s in shown]
    project, scale = _projection(points)
    parts: list[str] = [
        f'<rect x="0.5" y="0.5" width="{SKETCH_WIDTH - 1}" height="{SKETCH_HEIGHT - 1}" fill="#ffffff" '
        f'stroke="{LINE}"/>',
        f'<text x="{SKETCH_WIDTH - 8}" y="16" font-size="11" text-anchor="end" fill="{MUTED}">N ↑</text>',
    ]
    # The way, drawn as it is driven: start, the shown stops in order, end.
    path = [project(start)] + [project(places[s.order_id]) for s in shown] + [project(end)]
    parts.append('<polyline points="' + " ".join(f"{_fmt(x)},{_fmt(y)}" for x, y in path)
                 + f'" fill="none" stroke="{BRAND}" stroke-width="2" stroke-linejoin="round"/>')
    # Towns: named once, at the mean of their (shown) stops, under the dots.
    by_town: dict[str, list[Place]] = {}
    for s in shown:
        if towns.get(s.order_id):
            by_town.setdefault(towns[s.order_id], []).append(places[s.order_id])
    for town, spots in sorted(by_town.items()):
        x, y = project((sum(p[0] for p in spots) / len(spots), sum(p[1] for p in spots) / len(spots)))
        parts.append(f'<text x="{_fmt(x)}" y="{_fmt(min(y + 22, SKETCH_HEIGHT - 18))}" font-size="11" '
                     f'text-anchor="middle" fill="{MUTED}" font-style="italic">{escape(town)}</text>')
    # Start and end (one square when they are the same place), then the numbered stops.
    home = [(start, start_label)] if start == end else [(start, start_label), (end, end_label)]
    for place, label in home:
        x, y = project(place)
        parts.append(f'<rect x="{_fmt(x - 6)}" y="{_fmt(y - 6)}" width="12" height="12" fill="{OK}"/>'
                     f'<text x="{_fmt(x)}" y="{_fmt(y - 10)}" font-size="10" text-anchor="middle" '
                     f'fill="{INK}">{escape(label)}</text>')
    number = {s.order_id: n for n, s in enumerate(route.stops, start=1)}
    for s in shown:
        x, y = project(places[s.order_id])
        parts.append(f'<circle cx="{_fmt(x)}" cy="{_fmt(y)}" r="9" fill="{BRAND}" stroke="#ffffff" '
                     f'stroke-width="1.5"/><text x="{_fmt(x)}" y="{_fmt(y + 3.5)}" font-size="10" '
                     f'text-anchor="middle" fill="#ffffff" font-weight="bold">{number[s.order_id]}</text>')
    parts.append(_scale_bar(scale))
    left_out = len(route.stops) - len(shown)
    description = (f"{len(route.stops)} besök, {km_text(route.km)} km"
                   + (f", från {clock(route.start)} till {clock(route.end)}" if route.stops else "")
                   + (f"; {left_out} besök med skyddad identitet visas inte på skissen" if left_out else "") + ".")
    svg = Markup(
        f'<svg class="route-sketch" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {SKETCH_WIDTH} {SKETCH_HEIGHT}" '
        f'width="{SKETCH_WIDTH}" height="{SKETCH_HEIGHT}" role="img" focusable="false">'
        f'<title>{escape(title)}</title><desc>{escape(description)}</desc>{"".join(parts)}</svg>')
    rows = []
    for n, s in enumerate(route.stops, start=1):
        secret = s.order_id in hidden
        rows.append([str(n), labels.get(s.order_id, str(s.order_id)),
                     "skyddad identitet" if secret else towns.get(s.order_id, "–"),
                     "ca " + clock(s.arrival), clock(s.start) + "–" + clock(s.end), km_text(s.km_from_previous)])
    notes = [f"Hela dagen: {km_text(route.km)} km, hemresan inräknad."]
    if left_out:
        notes.append(f"{left_out} besök med skyddad identitet finns med i tider och km men ritas inte ut.")
    return Picture(svg, title, description,
                   ["Nr", "Order", "Ort", "Ankomst", "Besök", "Km från föregående"], rows, notes)


# --- a week as a timeline ---------------------------------------------------------------------


ROW_H, LABEL_W, TIMELINE_W, AXIS_H = 22, 110, 480, 22


def _day_label(day: date) -> str:
    return f"{WEEKDAYS[day.weekday()]} {day.day}/{day.month}"


def _segments(route: Route) -> list[tuple[str, int, int]]:
    """The day as (kind, from, to): 'drive' (driving, and any waiting for a window), 'visit',
    'lunch'; lunch cut out of the driving it falls into."""
    out: list[tuple[str, int, int]] = []
    lunch = route.lunch

    def travel(a: int, b: int) -> None:
        if b <= a:
            return
        if lunch and lunch[0] < b and lunch[1] > a:
            if lunch[0] > a:
                out.append(("drive", a, lunch[0]))
            if b > lunch[1]:
                out.append(("drive", lunch[1], b))
        else:
            out.append(("drive", a, b))

    previous = route.start
    for stop in route.stops:
        travel(previous, stop.start)  # driving, then any waiting for the window
        out.append(("visit", stop.start, stop.end))
        previous = stop.end
    if route.stops:
        travel(previous, route.end)
    if lunch:
        out.append(("lunch", lunch[0], lunch[1]))
    return out


COLOURS = {"visit": BRAND, "drive": WARN, "lunch": OK}
KIND_NAMES = {"visit": "besök", "drive": "körning och väntan", "lunch": "lunch"}


def week_timeline(days: list[tuple[str, date, Route | None]], *, title: str) -> Picture:
    """Technician x day as rows of bars on one time axis: visits, driving (with any waiting for a
    window) and lunch. `days` holds (technician's name, day, the day's route or None when the
    technician does not work or nothing is planned)."""
    routes = [r for _, _, r in days if r is not None and r.stops]
    first = min((r.start for r in routes), default=7 * 60)
    last = max((r.end for r in routes), default=17 * 60)
    first, last = min(first, 7 * 60) // 60 * 60, -(-max(last, 17 * 60) // 60) * 60
    width = LABEL_W + TIMELINE_W + 10
    height = AXIS_H + ROW_H * max(len(days), 1) + 30

    def x(minute: int) -> float:
        return LABEL_W + (minute - first) / (last - first) * TIMELINE_W

    parts = []
    for hour in range(first // 60, last // 60 + 1):
        hx = _fmt(x(hour * 60))
        parts.append(f'<line x1="{hx}" y1="{AXIS_H - 4}" x2="{hx}" y2="{AXIS_H + ROW_H * len(days)}" '
                     f'stroke="{LINE}" stroke-width="1"/>')
        if (hour - first // 60) % 2 == 0:
            parts.append(f'<text x="{hx}" y="{AXIS_H - 8}" font-size="10" text-anchor="middle" '
                         f'fill="{MUTED}">{hour:02d}</text>')
    rows = []
    for n, (name, day, route) in enumerate(days):
        top = AXIS_H + n * ROW_H
        parts.append(f'<text x="4" y="{top + 15}" font-size="11" fill="{INK}">'
                     f'{escape(_short(name))} {escape(_day_label(day))}</text>')
        if route is None or not route.stops:
            parts.append(f'<text x="{LABEL_W + 4}" y="{top + 15}" font-size="10" fill="{MUTED}">'
                         f'{"ledig" if route is None else "inga besök"}</text>')
            rows.append([name, day.isoformat(), "–", "0", "–", "–", "–"])
            continue
        for kind, a, b in _segments(route):
            height_px, inset = (ROW_H - 6, 3) if kind == "visit" else (ROW_H - 14, 7)
            parts.append(f'<rect x="{_fmt(x(a))}" y="{top + inset}" width="{_fmt(max(x(b) - x(a), 1))}" '
                         f'height="{height_px}" fill="{COLOURS[kind]}"><title>{escape(KIND_NAMES[kind])} '
                         f'{clock(a)}–{clock(b)}</title></rect>')
        drive = sum(b - a for kind, a, b in _segments(route) if kind == "drive")
        rows.append([name, day.isoformat(), f"{clock(route.start)}–{clock(route.end)}", str(len(route.stops)),
                     km_text(route.km), f"{drive // 60} h {drive % 60:02d} min",
                     f"{clock(route.lunch[0])}–{clock(route.lunch[1])}" if route.lunch else "–"])
    legend_y = AXIS_H + ROW_H * len(days) + 18
    for n, kind in enumerate(("visit", "drive", "lunch")):
        lx = LABEL_W + n * 150
        parts.append(f'<rect x="{lx}" y="{legend_y - 9}" width="12" height="10" fill="{COLOURS[kind]}"/>'
                     f'<text x="{lx + 16}" y="{legend_y}" font-size="10" fill="{INK}">{KIND_NAMES[kind]}</text>')
    description = (f"{len(days)} rader (tekniker och dag), {sum(len(r.stops) for r in routes)} besök, "
                   f"{km_text(sum(r.km for r in routes))} km, tidsaxel {first // 60:02d}–{last // 60:02d}.")
    svg = Markup(
        f'<svg class="week-timeline" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" focusable="false"><title>{escape(title)}</title>'
        f'<desc>{escape(description)}</desc>{"".join(parts)}</svg>')
    return Picture(svg, title, description,
                   ["Tekniker", "Dag", "Arbetstid", "Besök", "Km", "Körning och väntan", "Lunch"], rows)


def _short(name: str) -> str:
    """'Mikael Lindqvist' -> 'Mikael L.': the timeline's labels are narrow."""
    given, _, family = name.partition(" ")
    return f"{given} {family[:1]}." if family else given


# --- the driving KPI per month -------------------------------------------------------------------


def kpi_chart(months: list[dict], target: float, *, title: str) -> Picture:
    """Km per device on loan per month as bars, the target as a dashed line; a month without
    figures gets no bar and says "inte mätt". `months` holds dicts with `label` (e.g. "mars
    2027"), `ratio` (None: not measured), `km`, `devices` and `partial` (the month so far)."""
    n = max(len(months), 1)
    step, left, top, plot_h = 44, 34, 14, 150
    width, height = left + n * step + 10, top + plot_h + 40
    highest = max([float(m["ratio"]) for m in months if m["ratio"] is not None] + [float(target) * 1.25])

    def y(value: float) -> float:
        return top + plot_h - value / highest * plot_h

    parts = [f'<line x1="{left}" y1="{top + plot_h}.5" x2="{width - 6}" y2="{top + plot_h}.5" stroke="{INK}"/>']
    for n_, m in enumerate(months):
        x = left + n_ * step + 6
        short = m["label"][:3] + (" " + m["label"][-2:] if m["label"][-4:].isdigit() else "")
        parts.append(f'<text x="{x + 16}" y="{top + plot_h + 14}" font-size="10" text-anchor="middle" '
                     f'fill="{INK}">{escape(short)}</text>')
        if m["ratio"] is None:
            parts.append(f'<text x="{x + 16}" y="{top + plot_h - 6}" font-size="8" text-anchor="middle" '
                         f'fill="{MUTED}">inte mätt</text>')
            continue
        value = float(m["ratio"])
        colour = WARN if value > float(target) else BRAND
        parts.append(f'<rect x="{x}" y="{_fmt(y(value))}" width="32" height="{_fmt(top + plot_h - y(value))}" '
                     f'fill="{colour}"><title>{escape(m["label"])}: {_ratio_text(value)} km per hjälpmedel'
                     f'{" (hittills)" if m.get("partial") else ""}</title></rect>')
        parts.append(f'<text x="{x + 16}" y="{_fmt(y(value) - 4)}" font-size="9" text-anchor="middle" '
                     f'fill="{INK}">{_ratio_text(value)}</text>')
    ty = _fmt(y(float(target)))
    parts.append(f'<line x1="{left}" y1="{ty}" x2="{width - 6}" y2="{ty}" stroke="{INK}" stroke-width="1.5" '
                 f'stroke-dasharray="5 3"/><text x="{left - 4}" y="{ty}" font-size="9" text-anchor="end" '
                 f'fill="{INK}">mål</text>')
    measured = [m for m in months if m["ratio"] is not None]
    over = sum(1 for m in measured if float(m["ratio"]) > float(target))
    description = (f"Körda km per utlånat hjälpmedel per månad, {len(measured)} av {len(months)} månader mätta, "
                   f"{over} över målet {_ratio_text(float(target))}.")
    svg = Markup(
        f'<svg class="kpi-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" focusable="false"><title>{escape(title)}</title>'
        f'<desc>{escape(description)}</desc>{"".join(parts)}</svg>')
    rows = [[m["label"] + (" (hittills)" if m.get("partial") else ""),
             km_text(float(m["km"])) if m["km"] is not None else "inte mätt",
             f"{m['devices']:,}".replace(",", "\u202f"),
             _ratio_text(float(m["ratio"])) if m["ratio"] is not None else "inte mätt"] for m in months]
    return Picture(svg, title, description, ["Månad", "Km", "Utlånade hjälpmedel", "Km per hjälpmedel"], rows)


def _ratio_text(value: float) -> str:
    return f"{value:.2f}".replace(".", ",")
