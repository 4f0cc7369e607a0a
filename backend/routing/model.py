"""The planning problem and its answer, as plain data: what the solver reads and writes.

Times are minutes after midnight on the day they belong to (local time, Europe/Stockholm);
places are (latitude, longitude) in decimal degrees. Nothing here touches the database:
`resources.py` and `candidates.py` build a Problem from the registers, `solver.py` answers
it, `schedule.py` walks one technician's day to give arrivals, driving and warnings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

Place = tuple[float, float]


@dataclass(frozen=True)
class Shift:
    """One technician's working day: where it starts and ends, the hours, and lunch."""

    day: date
    start: int  # minutes after midnight
    end: int
    lunch_earliest: int | None = None  # lunch of `lunch_minutes` starts within [earliest, latest]
    lunch_latest: int | None = None
    lunch_minutes: int = 0


@dataclass(frozen=True)
class Technician:
    id: int
    name: str
    start_place: Place
    end_place: Place
    shifts: tuple[Shift, ...]  # the working days in the period; absent days are not here
    skills: frozenset[int] = frozenset()  # device_category ids this technician may service among the restricted ones
    max_drive_km: float | None = None  # per day, when the vehicle has a limit


@dataclass(frozen=True)
class Visit:
    """An open work order that needs someone on site."""

    order_id: int
    place: Place
    minutes: int  # estimated time on site
    category: int  # device_category id
    restricted: bool = False  # the category needs a skill: only technicians with it may go
    due: date | None = None  # finish_due: after this day the visit is late
    window: tuple[int, int] | None = None  # the time agreed with the patient, on any day of the period
    days: tuple[date, ...] | None = None  # the days it may take place (None: any day of the period)
    technician: int | None = None  # a specific technician (required_technician, or the lock's)
    locked: tuple[int, date, int] | None = None  # (technician, day, start): confirmed with the patient
    technicians_needed: int = 1  # 2: two technicians on site at the same time
    priority: int = 1  # weight of leaving it unplanned (urgent repairs > overdue > due > later)


@dataclass(frozen=True)
class Problem:
    days: tuple[date, ...]
    technicians: tuple[Technician, ...]
    visits: tuple[Visit, ...]


@dataclass(frozen=True)
class Stop:
    order_id: int
    arrival: int  # minutes after midnight
    start: int  # service starts (after waiting for the window)
    end: int
    km_from_previous: float
    late: bool = False  # the day is after the visit's due date


@dataclass
class Route:
    technician: int
    day: date
    stops: list[Stop] = field(default_factory=list)
    km: float = 0.0  # including the way home
    start: int = 0  # leaves the start place
    end: int = 0  # back at the end place
    lunch: tuple[int, int] | None = None


@dataclass
class Unplanned:
    order_id: int
    reason: str  # Swedish, for the coordinator: why it does not fit


@dataclass
class Plan:
    routes: list[Route]
    unplanned: list[Unplanned]

    @property
    def km(self) -> float:
        return sum(r.km for r in self.routes)

    @property
    def hours(self) -> float:
        return sum(r.end - r.start for r in self.routes if r.stops) / 60

    @property
    def late(self) -> int:
        return sum(1 for r in self.routes for s in r.stops if s.late)
