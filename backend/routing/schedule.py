"""Walk one technician's day in a given order: when they arrive, start and finish each visit, where
lunch goes, how far they drive, and what is wrong with the day, in words.

This is the one place that turns an ordered day into times. The solver's plans, today's plan on
the board, the comparison of the two and Min dag's arrival times all go through `walk_day`, so
they cannot disagree about what a day looks like.

The matrix is indexed by position (see `day_places`): `places[0]` is the technician's start
place, `places[1..n]` the visits in the order given, `places[n+1]` the end place. A caller with a
larger matrix (the solver's, over every place of the period) passes `indices`: the positions of
[start, visit 1, …, visit n, end] in its matrix.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from backend.routing.model import Place, Route, Shift, Stop, Technician, Visit
from backend.routing.distances import Matrix

# Kinds of warning, for callers that want to tell them apart (the text is what people read).
WINDOW_MISSED = "window_missed"
DRIVE_BETWEEN_WINDOWS = "drive_between_windows"
WINDOWS_OVERLAP = "windows_overlap"
LOCK_MISSED = "lock_missed"
LONG_DAY = "long_day"
SKILL_MISSING = "skill_missing"
OTHER_TECHNICIAN = "other_technician"
DRIVE_LIMIT = "drive_limit"
LUNCH = "lunch"

# How long a technician may wait for the lunch window to open rather than take lunch late.
LUNCH_IDLE_MAX = 30


class DayWarning(str):
    """A warning in Swedish words, which is also a plain string; `kind` says what sort it is and
    `order_id` which visit it is about (None: the whole day)."""

    kind: str
    order_id: int | None

    def __new__(cls, text: str, kind: str, order_id: int | None = None) -> DayWarning:
        warning = super().__new__(cls, text)
        warning.kind = kind
        warning.order_id = order_id
        return warning


def clock(minutes: float) -> str:
    """Minutes after midnight as 'HH:MM'."""
    m = int(round(minutes))
    return f"{m // 60:02d}:{m % 60:02d}"


def day_places(technician: Technician, visits: Sequence[Visit]) -> list[Place]:
    """The places of a day in the order `walk_day` reads its matrix: start, the visits, end."""
    return [technician.start_place, *(v.place for v in visits), technician.end_place]


@dataclass
class _Lunch:
    earliest: int
    latest: int
    minutes: int
    taken: tuple[int, int] | None = None

    def take(self, at: float) -> float:
        start = max(at, self.earliest)
        self.taken = (int(round(start)), int(round(start + self.minutes)))
        return start + self.minutes


# A visit confirmed with the patient keeps its agreed window (start within it); a lock without a
# window holds the start itself.
def _earliest_start(visit: Visit) -> int | None:
    if visit.window is not None:
        return visit.window[0]
    if visit.locked is not None:
        return visit.locked[2]
    return None


def _latest_start(visit: Visit) -> int | None:
    if visit.window is not None:
        return visit.window[1]
    if visit.locked is not None:
        return visit.locked[2]
    return None


def walk_day(technician: Technician, shift: Shift, visits: list[Visit], matrix: Matrix,
             *, indices: Sequence[int] | None = None, labels: Sequence[str] | None = None
             ) -> tuple[Route, list[DayWarning]]:
    """The day as it would go: leave the start place at the start of the shift (later, when the
    first visit would only wait for its window: then just in time for it), drive to each visit
    in turn, wait for its window (or its confirmed time), work, take lunch within its window (while
    waiting if there is time, else before the visit that would run past the lunch window), drive
    to the end place. Returns the Route and its warnings; never refuses a day, however bad.
    Warnings name visit i as `labels[i]` ("Besök 3 (AO-2026-000042)"), by default "Besök i+1"."""
    n = len(visits)
    at = list(indices) if indices is not None else list(range(n + 2))
    if len(at) != n + 2:
        raise ValueError("indices must name the start, every visit and the end")
    km = matrix.km
    minutes = matrix.minutes
    names = list(labels) if labels is not None else [f"Besök {i + 1}" for i in range(n)]

    def leg(i: int) -> tuple[float, float]:
        """Drive from position i (0 = start) to position i + 1."""
        return km[at[i]][at[i + 1]], minutes[at[i]][at[i + 1]]

    warnings: list[DayWarning] = []
    route = Route(technician=technician.id, day=shift.day, start=shift.start, end=shift.start)
    lunch = None
    if shift.lunch_minutes and shift.lunch_earliest is not None:
        latest = shift.lunch_latest if shift.lunch_latest is not None else shift.lunch_earliest
        lunch = _Lunch(shift.lunch_earliest, latest, shift.lunch_minutes)
    if not visits:
        return route, warnings

    t = float(shift.start)
    total_km = 0.0
    for i, visit in enumerate(visits):
        leg_km, leg_min = leg(i)
        earliest = _earliest_start(visit)
        if lunch is not None and lunch.taken is None:
            arrival = t + leg_min
            start = max(arrival, earliest) if earliest is not None else arrival
            lunch_at = max(t, lunch.earliest)
            fits_in_wait = lunch_at <= lunch.latest and lunch_at + lunch.minutes + leg_min <= start
            # The visit would run past the lunch window: lunch first, unless that means idling
            # long before it (then lunch comes late, with a warning).
            runs_past = start + visit.minutes > lunch.latest and lunch_at <= lunch.latest \
                and lunch_at - t <= LUNCH_IDLE_MAX
            if fits_in_wait or runs_past:
                t = lunch.take(t)
        arrival = t + leg_min
        start = max(arrival, earliest) if earliest is not None else arrival
        end = start + visit.minutes
        late = visit.due is not None and shift.day > visit.due
        route.stops.append(Stop(visit.order_id, int(round(arrival)), int(round(start)), int(round(end)),
                                round(leg_km, 1), late))
        total_km += leg_km
        warnings.extend(_visit_warnings(technician, shift, visits, i, arrival, matrix, at, names))
        t = end

    # Nobody sets off to wait at the first door: when the first visit waits for its window (and
    # lunch is not eaten in that wait), the day leaves that much later and arrives as it opens.
    first = route.stops[0]
    if first.start > first.arrival and (lunch is None or lunch.taken is None or lunch.taken[0] >= first.start):
        route.start += first.start - first.arrival
        route.stops[0] = Stop(first.order_id, first.start, first.start, first.end, first.km_from_previous, first.late)

    home_km, home_min = leg(n)
    # Done within the lunch window or after it: lunch before driving back. Done before it: lunch
    # is eaten at the end place, outside the route.
    if lunch is not None and lunch.taken is None and t >= lunch.earliest:
        t = lunch.take(t)
    t += home_min
    total_km += home_km
    route.km = round(total_km, 1)
    route.end = int(round(t))
    if lunch is not None and lunch.taken is not None:
        route.lunch = lunch.taken
        if lunch.taken[0] > lunch.latest + 0.5:
            warnings.append(DayWarning(
                f"Lunchen hinns inte mellan {clock(lunch.earliest)} och {clock(lunch.latest)} "
                f"(blir {clock(lunch.taken[0])}).", LUNCH))
    if route.end > shift.end:
        warnings.append(DayWarning(
            f"Dagen blir {route.end - shift.end} min längre än arbetstiden: tillbaka {clock(route.end)}, "
            f"arbetstiden slutar {clock(shift.end)}.", LONG_DAY))
    if technician.max_drive_km is not None and route.km > technician.max_drive_km:
        warnings.append(DayWarning(
            f"Körsträckan {route.km:.0f} km är längre än bilens gräns på {technician.max_drive_km:.0f} km om dagen.",
            DRIVE_LIMIT))
    warnings.extend(_overlaps(visits, matrix, at, names))
    return route, warnings


def _visit_warnings(technician: Technician, shift: Shift, visits: list[Visit], i: int, arrival: float,
                    matrix: Matrix, at: list[int], names: list[str]) -> list[DayWarning]:
    visit = visits[i]
    out: list[DayWarning] = []
    name = names[i]
    if visit.restricted and visit.category not in technician.skills:
        out.append(DayWarning(f"{name}: {technician.name} saknar behörighet för hjälpmedlets kategori.",
                              SKILL_MISSING, visit.order_id))
    wanted = visit.locked[0] if visit.locked is not None else visit.technician
    if wanted is not None and wanted != technician.id:
        out.append(DayWarning(f"{name}: ska göras av en annan, bestämd tekniker.", OTHER_TECHNICIAN, visit.order_id))
    if visit.locked is not None and visit.locked[1] != shift.day:
        out.append(DayWarning(f"{name}: är bekräftat med brukaren till en annan dag.", LOCK_MISSED, visit.order_id))
    elif visit.locked is not None and visit.window is None and arrival > visit.locked[2] + 0.5:
        out.append(DayWarning(
            f"{name}: är bekräftat med brukaren till {clock(visit.locked[2])} men teknikern hinner "
            f"fram först {clock(arrival)}.", LOCK_MISSED, visit.order_id))
    elif visit.window is not None and arrival > visit.window[1] + 0.5:
        window = f"{clock(visit.window[0])}–{clock(visit.window[1])}"
        confirmed = " som är bekräftad med brukaren" if visit.locked is not None else ""
        previous = visits[i - 1] if i > 0 else None
        # Driving that cannot fit: even starting the previous visit at the very start of its own
        # window, the work and the drive end after this window closes.
        if previous is not None and _earliest_start(previous) is not None:
            drive = matrix.minutes[at[i]][at[i + 1]]
            earliest_here = _earliest_start(previous) + previous.minutes + drive
            if earliest_here > visit.window[1] + 0.5:
                out.append(DayWarning(
                    f"{name}: körningen från föregående besök ({matrix.km[at[i]][at[i + 1]]:.0f} km, ca "
                    f"{drive:.0f} min) ryms inte mellan tiderna; fram tidigast {clock(earliest_here)}, "
                    f"tiden är {window}.", DRIVE_BETWEEN_WINDOWS, visit.order_id))
                return out
        out.append(DayWarning(f"{name}: missar tiden {window}{confirmed} (fram ca {clock(arrival)}).",
                              LOCK_MISSED if confirmed else WINDOW_MISSED, visit.order_id))
    return out


def _overlaps(visits: list[Visit], matrix: Matrix, at: list[int], names: list[str]) -> list[DayWarning]:
    """Pairs of visits whose times overlap so that no order of the two meets both (each with its
    work and the drive between), whatever the rest of the day looks like."""
    out: list[DayWarning] = []
    timed = [(i, v) for i, v in enumerate(visits) if _earliest_start(v) is not None]
    for x, (i, a) in enumerate(timed):
        for j, b in timed[x + 1:]:
            a0, a1, b0, b1 = _earliest_start(a), _latest_start(a), _earliest_start(b), _latest_start(b)
            if a0 > b1 or b0 > a1:
                continue  # the windows do not overlap at all
            a_then_b = a0 + a.minutes + matrix.minutes[at[i + 1]][at[j + 1]] <= b1 + 0.5
            b_then_a = b0 + b.minutes + matrix.minutes[at[j + 1]][at[i + 1]] <= a1 + 0.5
            if not (a_then_b or b_then_a):
                out.append(DayWarning(
                    f"{names[i]} ({clock(a0)}–{clock(a1)}) och {names[j]} ({clock(b0)}–{clock(b1)}) har "
                    f"tider som överlappar: båda hinns inte, i någon ordning.", WINDOWS_OVERLAP, b.order_id))
    return out
