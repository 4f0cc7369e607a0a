"""Route-access rows of the route pictures and the driving KPI: the week's timeline and the
distance page (coordinators and admins), the target form (an empty one is refused: 400), and the
technician's "Körda km" form on Min dag (an empty one is refused: 400; nothing is written)."""

from __future__ import annotations

PAGE = dict(anonymous=303, technician=403, consultant=403, prescriber=403, coordinator=200, admin=200)
REFUSED = dict(anonymous=401, technician=403, consultant=403, prescriber=403, coordinator=400, admin=400)

ROWS = {
    ("GET", "/planering/vecka"): ("/planering/vecka", PAGE),
    ("GET", "/planering/korstracka"): ("/planering/korstracka", PAGE),
    ("POST", "/planering/korstracka/mal"): ("/planering/korstracka/mal", REFUSED),
    ("POST", "/min-dag/korda-km"): ("/min-dag/korda-km", dict(anonymous=401, technician=400, consultant=403,
                                                             prescriber=403, coordinator=403, admin=403)),
}
