"""What the public fault-report pages offer per device category: the simple checks to try
before reporting, and the faults to choose from. Keyed by device_category.code; a category's own
self-checks, kept in the catalogue register, take the place of the built-in ones (`checks_for`).

The checks follow what HMCs ask callers to try before an urgent call (PRODUCT.md).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CategoryGuide:
    checks: tuple[str, ...]
    problems: tuple[tuple[str, str], ...]  # (code, Swedish label)


OTHER = ("other", "Något annat (beskriv nedan)")

_GENERIC = CategoryGuide(
    checks=(
        "Titta efter lösa delar, sprickor eller något som har fastnat.",
        "Om hjälpmedlet har batteri: är det laddat och sitter laddaren i vägguttaget?",
    ),
    problems=(
        ("broken_part", "En del är trasig eller har lossnat"),
        ("wheel", "Hjul, däck eller broms"),
        ("adjustment", "Går inte att ställa in eller justera"),
        ("noise", "Låter konstigt eller luktar"),
        OTHER,
    ),
)

_BED = CategoryGuide(
    checks=(
        "Sitter sladden i vägguttaget, och fungerar uttaget (prova med en lampa)?",
        "Sitter handkontrollens sladd ordentligt fast i sängen?",
        "Är något i kläm under eller vid sängen: sladdar, filtar, möbler?",
    ),
    problems=(
        ("no_movement", "Sängen går inte att höja eller sänka"),
        ("backrest", "Rygg- eller bendelen fungerar inte"),
        ("handset", "Handkontrollen fungerar inte"),
        ("side_rail", "Sidogrinden låser inte eller är trasig"),
        ("brake", "Hjul eller broms"),
        ("alarm", "Sängen piper eller larmar"),
        OTHER,
    ),
)

_LIFT = CategoryGuide(
    checks=(
        "Är lyften laddad? Sätt den i laddaren en stund och prova igen.",
        "Sitter handkontrollens sladd ordentligt fast?",
        "Är nödstoppet intryckt? Vrid eller dra ut det och prova igen.",
        "Om någon hänger i lyften: använd nödsänkningen.",
    ),
    problems=(
        ("no_lift", "Lyften går inte att köra upp eller ner"),
        ("handset", "Handkontrollen fungerar inte"),
        ("charging", "Lyften laddar inte"),
        ("strap", "Lyftbandet eller bygeln ser slitet eller skadat ut"),
        ("stops", "Lyften stannar eller går ryckigt"),
        ("wheel", "Hjul, ben eller broms (mobil lyft)"),
        OTHER,
    ),
)

_POWERED_CHAIR = CategoryGuide(
    checks=(
        "Är batterierna laddade? Ladda över natten och prova igen.",
        "Är huvudströmbrytaren på?",
        "Står frikopplingsspaken i körläge (inte i frikopplat läge)?",
    ),
    problems=(
        ("no_drive", "Stolen går inte att köra"),
        ("charging", "Batteriet laddar inte eller räcker kort"),
        ("joystick", "Joysticken eller styrningen fungerar inte"),
        ("error_code", "En felkod eller lampa blinkar"),
        ("tyre", "Punktering eller trasigt hjul"),
        ("seat", "Sits, rygg, armstöd eller fotstöd"),
        ("seat_functions", "Eldrivna sittfunktioner (tilt, höjd) fungerar inte"),
        ("noise", "Låter konstigt"),
        OTHER,
    ),
)

_SCOOTER = CategoryGuide(
    checks=_POWERED_CHAIR.checks,
    problems=(
        ("no_drive", "Mopeden startar eller går inte"),
        ("charging", "Batteriet laddar inte eller räcker kort"),
        ("brake", "Bromsen tar dåligt"),
        ("steering", "Styrningen glappar"),
        ("tyre", "Punktering eller trasigt hjul"),
        OTHER,
    ),
)

_MATTRESS = CategoryGuide(
    checks=(
        "Sitter pumpens sladd i vägguttaget och är pumpen påslagen?",
        "Sitter slangarna fast mellan pump och madrass?",
    ),
    problems=(
        ("alarm", "Pumpen larmar"),
        ("flat", "Madrassen känns platt eller hård"),
        ("cover", "Hål eller fläckar i överdraget"),
        OTHER,
    ),
)

_COMMUNICATION = CategoryGuide(
    checks=(
        "Är enheten laddad? Sätt i laddaren en stund och prova igen.",
        "Prova att stänga av och starta om enheten.",
    ),
    problems=(
        ("no_start", "Startar inte"),
        ("screen", "Skärmen är svart eller trasig"),
        ("sound", "Inget ljud eller för svagt ljud"),
        ("control", "Styrningen (ögonstyrning, kontakter) fungerar inte"),
        ("mount", "Fästet har lossnat"),
        OTHER,
    ),
)

_WALKER = CategoryGuide(
    checks=("Är bromsarna lossade, och är det något som har fastnat i hjulen?",),
    problems=(
        ("brake", "Bromsen tar inte"),
        ("wheel", "Ett hjul är trasigt eller har lossnat"),
        ("fold", "Går inte att fälla ihop eller låsa"),
        ("broken_part", "Korg, sits eller annan del är trasig"),
        OTHER,
    ),
)

_WHEELCHAIR = CategoryGuide(
    checks=("Är däcken pumpade, och är bromsarna lossade?",),
    problems=(
        ("tyre", "Punktering eller trasigt hjul"),
        ("brake", "Bromsen tar inte"),
        ("footrest", "Fotstöd eller benstöd är trasigt"),
        ("back", "Ryggen eller sitsen behöver justeras"),
        OTHER,
    ),
)

GUIDES: dict[str, CategoryGuide] = {
    "care_bed": _BED,
    "bed_lift": _BED,
    "ceiling_lift": _LIFT,
    "mobile_lift": _LIFT,
    "powered_wheelchair": _POWERED_CHAIR,
    "scooter": _SCOOTER,
    "pressure_mattress": _MATTRESS,
    "communication_device": _COMMUNICATION,
    "rollator": _WALKER,
    "walking_table": _WALKER,
    "manual_wheelchair": _WHEELCHAIR,
}


def guide_for(category_code: str | None) -> CategoryGuide:
    return GUIDES.get(category_code or "", _GENERIC)


def checks_for(category_code: str | None, own_checks: list[str] | tuple[str, ...] = ()) -> tuple[str, ...]:
    """The checks the public page asks people to try: the category's own list when the catalogue
    register gives it one (device_category.self_checks), else the built-in ones for its code."""
    return tuple(own_checks) if own_checks else guide_for(category_code).checks


def problem_labels(category_code: str | None, codes: list[str] | tuple[str, ...]) -> list[str]:
    """The Swedish labels of chosen fault codes, in the order the form lists them."""
    labels = dict(guide_for(category_code).problems)
    return [labels[c] if c != "other" else "Annat" for c in codes if c in labels]
