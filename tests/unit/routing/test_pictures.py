"""Route pictures: the day's sketch and the week's timeline are plain SVG that pass the strict CSP,
draw what the route holds in order, keep protected identities off the drawing, and carry the same
facts as a table."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import date

from backend.routing.model import Route, Stop
from backend.routing.pictures import clock, route_sketch, week_timeline

SVG = "{http://www.w3.org/2000/svg}"
DEPOT = (59.6099, 16.5448)  # Västerås
KOPING = (59.5140, 15.9926)
ARBOGA = (59.3939, 15.8388)
SALA = (59.9196, 16.6066)


def a_day(*stops: tuple[int, int, int, int, float], lunch=(720, 750)) -> Route:
    return Route(technician=7, day=date(2027, 3, 1),
                 stops=[Stop(order_id=o, arrival=a, start=s, end=e, km_from_previous=k) for o, a, s, e, k in stops],
                 km=sum(k for *_, k in stops) + 20.0, start=450, end=960, lunch=lunch)


def parsed(svg: str) -> ET.Element:
    return ET.fromstring(str(svg))  # well-formed XML, or this raises


def assert_csp_safe(svg: str) -> None:
    assert not re.search(r"\sstyle=|<style|<script|\son[a-z]+=", svg)
    assert "http" not in svg.replace('xmlns="http://www.w3.org/2000/svg"', "")  # nothing fetched


def test_clock_writes_minutes_after_midnight_as_24_hour_time():
    assert clock(580) == "09:40" and clock(0) == "00:00" and clock(599.6) == "10:00"


def test_the_sketch_draws_start_stops_in_order_and_end_and_names_each_town_once():
    route = a_day((1, 480, 480, 540, 33.0), (2, 560, 560, 600, 14.0), (3, 620, 620, 660, 1.5))
    places = {1: KOPING, 2: ARBOGA, 3: (ARBOGA[0] + 0.01, ARBOGA[1] + 0.01)}
    picture = route_sketch(route, places, DEPOT, DEPOT, title="Mikael L. 2027-03-01",
                           towns={1: "Köping", 2: "Arboga", 3: "Arboga"}, labels={1: "AU-1", 2: "FU-2", 3: "FU-3"})
    root = parsed(picture.svg)
    assert_csp_safe(str(picture.svg))
    assert root.get("role") == "img" and root.find(f"{SVG}title").text == "Mikael L. 2027-03-01"
    line = root.find(f"{SVG}polyline").get("points").split()
    assert len(line) == 5 and line[0] == line[-1]  # depot, three stops, depot
    numbers = [t.text for t in root.iter(f"{SVG}text") if t.get("font-weight") == "bold"]
    assert numbers == ["1", "2", "3"]
    towns = [t.text for t in root.iter(f"{SVG}text") if t.get("font-style") == "italic"]
    assert sorted(towns) == ["Arboga", "Köping"]
    # Köping lies east of Arboga and west of the depot: the drawing keeps west to the left.
    xy = [tuple(map(float, p.split(","))) for p in line]
    assert xy[2][0] < xy[1][0] < xy[0][0]
    assert picture.rows[0] == ["1", "AU-1", "Köping", "ca 08:00", "08:00–09:00", "33,0"]
    assert len(picture.rows) == 3 and "Hela dagen: 68,5 km" in picture.notes[0]


def test_a_protected_identity_is_neither_drawn_nor_named_but_counted():
    route = a_day((1, 480, 480, 540, 33.0), (2, 560, 560, 600, 14.0))
    picture = route_sketch(route, {1: KOPING, 2: SALA}, DEPOT, DEPOT, title="Dag",
                           towns={1: "Köping", 2: "Sala"}, hidden={2})
    svg = str(picture.svg)
    assert "Sala" not in svg and "Sala" not in str(picture.rows)
    assert len(parsed(svg).find(f"{SVG}polyline").get("points").split()) == 3  # depot, Köping, depot
    assert picture.rows[1][2] == "skyddad identitet" and picture.rows[1][5] == "14,0"
    assert "1 besök med skyddad identitet" in picture.description


def test_text_in_the_sketch_is_escaped():
    route = a_day((1, 480, 480, 540, 3.0))
    picture = route_sketch(route, {1: KOPING}, DEPOT, SALA, title="<script>x</script>", towns={1: "A&B <i>"})
    assert "<script>" not in str(picture.svg) and "&lt;script&gt;" in str(picture.svg)
    parsed(picture.svg)


def test_a_day_without_stops_still_draws_the_home_base():
    picture = route_sketch(Route(technician=1, day=date(2027, 3, 1)), {}, DEPOT, DEPOT, title="Tom dag")
    root = parsed(picture.svg)
    assert picture.rows == [] and root.find(f"{SVG}polyline") is not None


def test_the_week_timeline_has_a_row_per_technician_day_with_visits_driving_and_lunch():
    monday = a_day((1, 480, 490, 540, 33.0), (2, 600, 600, 700, 14.0))
    days = [("Mikael Lindqvist", date(2027, 3, 1), monday), ("Mikael Lindqvist", date(2027, 3, 2), None),
            ("Anna Berg", date(2027, 3, 1), Route(technician=8, day=date(2027, 3, 1)))]
    picture = week_timeline(days, title="Vecka 9")
    root = parsed(picture.svg)
    assert_csp_safe(str(picture.svg))
    bars = [r.find(f"{SVG}title").text for r in root.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
    assert "besök 08:10–09:00" in bars and "besök 10:00–11:40" in bars and "lunch 12:00–12:30" in bars
    # Driving: from leaving home to the first arrival, between the visits, and home after lunch is cut out.
    assert "körning och väntan 07:30–08:10" in bars and "körning och väntan 09:00–10:00" in bars
    assert "körning och väntan 11:40–12:00" in bars and "körning och väntan 12:30–16:00" in bars
    assert picture.rows[0] == ["Mikael Lindqvist", "2027-03-01", "07:30–16:00", "2", "67,0", "5 h 30 min",
                               "12:00–12:30"]
    assert picture.rows[1][3] == "0" and picture.rows[2][3] == "0"
    labels = [t.text for t in root.iter(f"{SVG}text")]
    assert "Mikael L. mån 1/3" in labels and "ledig" in labels and "inga besök" in labels


def test_the_timeline_axis_widens_for_a_day_that_runs_late():
    late = Route(technician=1, day=date(2027, 3, 1), stops=[Stop(1, 1100, 1100, 1180, 5.0)], km=10, start=420,
                 end=1200)
    picture = week_timeline([("A B", date(2027, 3, 1), late)], title="Sent")
    assert "tidsaxel 07–20" in picture.description
    assert re.search(r'width="\d+"', str(picture.svg))


def test_the_kpi_chart_draws_measured_months_against_the_target_and_says_which_are_not_measured():
    from decimal import Decimal

    from backend.routing.pictures import kpi_chart

    months = [{"label": "januari 2027", "ratio": Decimal("0.35"), "km": Decimal("28000"), "devices": 80000},
              {"label": "februari 2027", "ratio": None, "km": None, "devices": 80100},
              {"label": "mars 2027", "ratio": Decimal("0.45"), "km": Decimal("36000"), "devices": 80200,
               "partial": True}]
    picture = kpi_chart(months, Decimal("0.40"), title="Körsträcka per hjälpmedel")
    root = parsed(picture.svg)
    assert_csp_safe(str(picture.svg))
    bars = [r for r in root.iter(f"{SVG}rect")]
    assert [b.find(f"{SVG}title").text for b in bars] == [
        "januari 2027: 0,35 km per hjälpmedel", "mars 2027: 0,45 km per hjälpmedel (hittills)"]
    assert bars[0].get("fill") != bars[1].get("fill")  # over the target shows otherwise
    assert float(bars[1].get("height")) > float(bars[0].get("height"))
    assert "inte mätt" in [t.text for t in root.iter(f"{SVG}text")]
    assert picture.rows[1] == ["februari 2027", "inte mätt", "80\u202f100", "inte mätt"]
    assert picture.rows[2][0] == "mars 2027 (hittills)" and "1 över målet 0,40" in picture.description
