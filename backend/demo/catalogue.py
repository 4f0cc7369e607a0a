"""The demo assortment: device categories, articles, spare parts, FU checklists, faults."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Category:
    code: str
    name: str
    iso_code: str
    fu_interval_days: int | None
    expected_life_years: int
    total: int  # devices at scale 1
    in_use_share: float  # share of `total` lent out to patients
    fault_weight: float  # relative chance that one device gets a repair order


CATEGORIES: list[Category] = [
    Category("powered_wheelchair", "Elrullstol", "12 23 06", 365, 5, 800, 0.86, 14.0),
    Category("scooter", "Elmoped/elscooter", "12 23 03", 365, 6, 400, 0.85, 8.0),
    Category("ceiling_lift", "Taklyft", "12 36 12", 365, 10, 1_500, 0.88, 3.0),
    Category("mobile_lift", "Mobil lyft", "12 36 03", 365, 8, 1_200, 0.80, 3.0),
    Category("lift_sling", "Lyftsele", "12 36", 182, 3, 4_000, 0.84, 0.5),
    Category("care_bed", "Vårdsäng", "18 12 10", 365, 10, 5_000, 0.84, 2.5),
    Category("bed_lift", "Sängryggstöd/sänglyft", "18 12 12", 365, 8, 600, 0.82, 1.5),
    Category("pressure_mattress", "Tryckavlastande madrass", "04 33 06", 730, 5, 4_000, 0.82, 1.0),
    Category("standing_aid", "Ståhjälpmedel", "04 48 08", 730, 8, 300, 0.80, 1.5),
    Category("communication_device", "Kommunikationshjälpmedel", "22 21 09", 365, 5, 700, 0.86, 3.0),
    Category("rollator", "Rollator", "12 06 06", None, 8, 15_000, 0.80, 0.15),
    Category("manual_wheelchair", "Manuell rullstol", "12 22 03", None, 8, 6_000, 0.80, 0.6),
    Category("shower_chair", "Duschstol", "09 33 03", None, 8, 14_000, 0.74, 0.03),
    Category("toilet_raiser", "Toalettförhöjning", "09 12 15", None, 10, 9_000, 0.74, 0.02),
    Category("commode_chair", "Hygienstol", "09 12 03", None, 8, 6_500, 0.74, 0.08),
    Category("pressure_cushion", "Tryckavlastande sittdyna", "04 33 03", None, 5, 7_000, 0.74, 0.05),
    Category("walking_table", "Gåbord", "12 06 12", None, 8, 4_000, 0.76, 0.10),
]

CATEGORY_BY_CODE = {c.code: c for c in CATEGORIES}

# Each category's FU schedule, as docs/PRODUCT.md's table has it (interval: the category's
# fu_interval_days; checklist: the category's "fu"): its name, and whether it is also done before
# each new user (a powered wheelchair, a ceiling lift before first use, a care bed before reuse).
FU_SCHEDULES: dict[str, tuple[str, bool]] = {
    "powered_wheelchair": ("Årlig FU och före varje ny brukare", True),
    "scooter": ("Årlig FU", False),
    "ceiling_lift": ("Årlig FU (SS-EN ISO 10535) och före första användning", True),
    "mobile_lift": ("Årlig FU (SS-EN ISO 10535)", False),
    "lift_sling": ("Halvårskontroll av lyftsele", False),
    "care_bed": ("Årlig FU och före återanvändning", True),
    "bed_lift": ("Årlig FU", False),
    "pressure_mattress": ("FU enligt tillverkaren, vartannat år", False),
    "standing_aid": ("FU enligt tillverkaren, vartannat år", False),
    "communication_device": ("Årlig FU enligt tillverkaren", False),
}

# (category code, article number, name, manufacturer, relative share within the category)
ARTICLES: list[tuple[str, str, str, str, int]] = [
    ("powered_wheelchair", "216734", "Permobil M3 Corpus", "Permobil", 5),
    ("powered_wheelchair", "216801", "Permobil F5 Corpus VS", "Permobil", 2),
    ("powered_wheelchair", "224310", "Quickie Q500 M Sedeo Pro", "Sunrise Medical", 3),
    ("powered_wheelchair", "219954", "Invacare AVIVA RX40", "Invacare", 2),
    ("scooter", "208812", "Minicrosser M1 Swing", "Minicrosser", 3),
    ("scooter", "211405", "Invacare Comet Alpine+", "Invacare", 2),
    ("ceiling_lift", "187420", "Liko LikoGuard L", "Liko (Hillrom)", 4),
    ("ceiling_lift", "187515", "Liko Likorall 242 ES", "Liko (Hillrom)", 3),
    ("ceiling_lift", "190233", "Molift Air 205", "Etac", 3),
    ("mobile_lift", "185671", "Liko Viking M", "Liko (Hillrom)", 3),
    ("mobile_lift", "186109", "Molift Smart 150", "Etac", 3),
    ("mobile_lift", "184998", "Invacare Birdie Evo", "Invacare", 2),
    ("lift_sling", "301245", "Liko Originalsele mod. 000, storlek M", "Liko (Hillrom)", 4),
    ("lift_sling", "301262", "Liko Universalsele mod. 600, storlek L", "Liko (Hillrom)", 3),
    ("lift_sling", "302418", "Molift RgoSling Highback, storlek M", "Etac", 3),
    ("care_bed", "145770", "Invacare Medley Ergo", "Invacare", 4),
    ("care_bed", "146012", "Linido LI 2000", "Linido", 3),
    ("care_bed", "144893", "Carendo Säng Basic", "Arjo", 2),
    ("bed_lift", "148231", "Sängryggstöd med motor", "Linak", 2),
    ("bed_lift", "148240", "Sänglyft SL-100", "Handicare", 1),
    ("pressure_mattress", "162330", "Tempur Pro Pressure Care", "Tempur Sealy", 3),
    ("pressure_mattress", "162804", "Invacare Softform Premier", "Invacare", 3),
    ("pressure_mattress", "163520", "Alpha Active 4 (luftmadrass)", "Arjo", 2),
    ("standing_aid", "170445", "Rifton Dynamic Stander", "Rifton", 1),
    ("standing_aid", "170512", "Etac Turner Pro", "Etac", 2),
    ("communication_device", "260118", "Tobii Dynavox I-13", "Tobii Dynavox", 3),
    ("communication_device", "260226", "Tobii Dynavox TD Pilot", "Tobii Dynavox", 1),
    ("communication_device", "259870", "Lightwriter SL50", "Abilia", 2),
    ("rollator", "120034", "Etac Trust", "Etac", 4),
    ("rollator", "120155", "Invacare Dolomite Legacy", "Invacare", 4),
    ("rollator", "120289", "Rollz Flex", "Rollz", 2),
    ("rollator", "120312", "Topro Troja 2G", "Topro", 3),
    ("manual_wheelchair", "130221", "Etac Cross 5", "Etac", 4),
    ("manual_wheelchair", "130409", "Küschall Compact 2.0", "Invacare", 2),
    ("manual_wheelchair", "130516", "Quickie Argon2", "Sunrise Medical", 2),
    ("manual_wheelchair", "130602", "Netti 4U Comfort", "Alu Rehab", 2),
    ("shower_chair", "140118", "Etac Swift Mobile duschstol", "Etac", 3),
    ("shower_chair", "140240", "Invacare Aquatec Ocean", "Invacare", 3),
    ("shower_chair", "140377", "Etac Clean hygienstol", "Etac", 2),
    ("toilet_raiser", "150210", "Etac Hi-Loo toalettförhöjning", "Etac", 3),
    ("toilet_raiser", "150331", "Toalettförhöjning med armstöd", "Handicare", 2),
    ("commode_chair", "141055", "Etac Swift Commode", "Etac", 2),
    ("commode_chair", "141102", "Invacare Aquatec Pico", "Invacare", 2),
    ("pressure_cushion", "165402", "ROHO High Profile sittdyna", "Permobil", 3),
    ("pressure_cushion", "165518", "Jay Easy Visco sittdyna", "Sunrise Medical", 2),
    ("walking_table", "121401", "Gåbord Eva", "Human Care", 2),
    ("walking_table", "121455", "Gåbord Olympos", "Bischoff & Bischoff", 1),
]

# Spare parts (article.category is NULL): (name, manufacturer). Article numbers are generated.
_PART_GROUPS: list[tuple[str, list[str], list[str]]] = [
    ("Batteri", ["12 V 50 Ah AGM", "12 V 73 Ah AGM", "12 V 12 Ah", "24 V litiumjon för lyft", "2,4 Ah för handkontroll"],
     ["Permobil", "Invacare", "Liko (Hillrom)", "Linak", "Etac"]),
    ("Däck", ["punkteringsfritt 3.00-8", "luftdäck 14x3", "drivhjulsdäck 24x1 3/8", "massivt 200x50"],
     ["Permobil", "Sunrise Medical", "Invacare", "Etac"]),
    ("Länkhjul", ["komplett 200 mm", "175 mm med gaffel", "125 mm för rollator", "100 mm med broms"],
     ["Invacare", "Etac", "Topro", "Sunrise Medical"]),
    ("Joystickmodul", ["R-net JSM", "VR2 standard", "LiNX REM400"], ["Permobil", "Invacare", "Sunrise Medical"]),
    ("Handkontroll", ["för vårdsäng 4 funktioner", "för taklyft", "för mobil lyft", "för sänglyft"],
     ["Linak", "Liko (Hillrom)", "Invacare", "Handicare"]),
    ("Laddare", ["24 V 8 A för elrullstol", "för lyftbatteri", "för elmoped 24 V 5 A"],
     ["Permobil", "Liko (Hillrom)", "Invacare"]),
    ("Ställdon", ["för vårdsäng ryggdel", "för vårdsäng höj/sänk", "för mobil lyft"], ["Linak", "Invacare"]),
    ("Lyftband", ["taklyft 2,3 m", "taklyft 2,8 m"], ["Liko (Hillrom)", "Etac"]),
    ("Bromsvajer", ["rollator vänster", "rollator höger", "manuell rullstol"], ["Topro", "Etac", "Invacare"]),
    ("Bälte", ["höftbälte 4-punkts", "bröstsele", "benremmar stålift"], ["Etac", "Sunrise Medical", "Permobil"]),
    ("Sidogrind", ["trä för vårdsäng", "metall för vårdsäng"], ["Invacare", "Linido"]),
    ("Säkring", ["motorsäkring 150 A", "glasrörssäkring 5 A"], ["Permobil", "Linak"]),
    ("Kabel", ["nätkabel vårdsäng", "spiralkabel handkontroll", "motorkabel elrullstol"],
     ["Linak", "Permobil", "Invacare"]),
    ("Motorbroms", ["elrullstol", "elmoped"], ["Permobil", "Invacare"]),
    ("Armstöd", ["höj- och vinklingsbart", "halvlångt med dyna"], ["Permobil", "Etac", "Sunrise Medical"]),
    ("Dyna", ["armstödsdyna", "nackstöd", "ryggdyna"], ["Permobil", "Etac"]),
    ("Lyftbygel", ["2-punkts 450 mm", "4-punkts 670 mm"], ["Liko (Hillrom)", "Etac"]),
    ("Överdrag", ["madrass 90x200", "sittdyna 45x45"], ["Invacare", "Permobil"]),
    ("Pump", ["till luftmadrass"], ["Arjo"]),
    ("Sensor", ["lutningsgivare", "nödstopp för taklyft"], ["Permobil", "Liko (Hillrom)"]),
]


def spare_parts() -> list[tuple[str, str]]:
    """(name, manufacturer) of every spare part, about 150, in a fixed order."""
    parts = []
    for group, variants, makers in _PART_GROUPS:
        for variant in variants:
            for maker in makers[:2] if len(makers) > 1 else makers:
                parts.append((f"{group} {variant}", maker))
    # Round up with the remaining manufacturers for the commonest parts.
    for group, variants, makers in _PART_GROUPS[:6]:
        for variant in variants:
            for maker in makers[2:]:
                parts.append((f"{group} {variant}", maker))
    return parts


def _item(key: str, text: str, safety: bool = False, unit: str | None = None,
          lo: float | None = None, hi: float | None = None, possible: tuple[float, float] | None = None) -> dict:
    """A checklist item; a measured one passes within [lo, hi] and can physically read within `possible`."""
    measurement = None
    if unit:
        measurement = {"unit": unit, "min": lo, "max": hi, "lowest": possible[0], "highest": possible[1]}
    return {"key": key, "text": text, "safety_critical": safety, "measurement": measurement}


_POWERED_COMMON = [
    _item("frame_seat", "Ram och sits hela, inga sprickor eller glapp"),
    _item("tyres_bearings", "Däck, lager och länkhjul utan skador"),
    _item("motor_brakes", "Motorbromsar håller, frikoppling fungerar", True),
    _item("joystick", "Styrbox/joystick och hastighetsinställning fungerar", True),
    _item("horn_lights", "Signalhorn och belysning fungerar"),
    _item("battery_voltage", "Batterispänning i vila", False, "V", 23.0, 26.5, (0.0, 60.0)),
    _item("charger_connectors", "Laddare, kontakter och säkringar hela"),
    _item("cables", "Kablage utan nötning eller klämskador", True),
]

CHECKLISTS: dict[str, list[dict]] = {
    "powered_wheelchair": _POWERED_COMMON + [
        _item("seat_functions", "Elektriska sitsfunktioner (tilt, rygg, höjd) fungerar"),
        _item("test_drive", "Provkörning utan anmärkning", True),
    ],
    "scooter": _POWERED_COMMON + [
        _item("tiller_lock", "Styrstångens låsning fungerar", True),
        _item("steering_play", "Inget glapp i styrningen", True),
        _item("parking_brake_slope", "Parkeringsbroms håller i backe", True),
        _item("throttle_neutral", "Gasreglaget återgår till neutralläge", True),
        _item("seat_swivel", "Sitsens vridlås fungerar"),
    ],
    "ceiling_lift": [
        _item("rail_fixings", "Skenans infästningar och ändstopp", True),
        _item("trolley", "Löpvagn rör sig fritt"),
        _item("strap", "Lyftbandet helt i hela längden", True),
        _item("hanger_bar", "Lyftbygel och clips hela", True),
        _item("emergency_stop", "Nödstopp fungerar", True),
        _item("emergency_lowering", "Nödsänkning fungerar", True),
        _item("handset", "Handkontroll och kabel hela"),
        _item("battery_charger", "Batteri och laddare fungerar"),
        _item("load_test", "Provlyft med maxlast", True, "kg", 140.0, 300.0, (0.0, 1000.0)),
        _item("inspection_label", "Etikett med nästa besiktningsdatum satt"),
    ],
    "mobile_lift": [
        _item("castors_brakes", "Hjul och bromsar fungerar", True),
        _item("leg_spread", "Benspridning fungerar och låser"),
        _item("mast_boom", "Mast- och armleder utan glapp", True),
        _item("actuator", "Ställdon utan missljud eller läckage"),
        _item("emergency_lowering", "Nödsänkning fungerar", True),
        _item("battery_charger", "Batteri och laddare fungerar"),
        _item("load_test", "Provlyft med maxlast", True, "kg", 120.0, 250.0, (0.0, 1000.0)),
        _item("sling_hanger", "Selbygel och krokar hela", True),
        _item("inspection_label", "Etikett med nästa besiktningsdatum satt"),
    ],
    "lift_sling": [
        _item("fabric", "Tyget helt, inga revor eller slitage", True),
        _item("seams", "Sömmar hela", True),
        _item("straps_loops", "Band och öglor hela", True),
        _item("label", "Etikett läsbar (storlek, maxlast, id)", True),
        _item("no_modifications", "Inga egna ändringar av selen", True),
        _item("lift_pairing", "Godkänd kombination lyft–sele"),
        _item("washed", "Selen ren och tvättad enligt anvisning"),
        _item("next_date_marked", "Nästa kontrolldatum och kontrollant noterat"),
    ],
    "care_bed": [
        _item("frame_welds", "Ram och svetsfogar utan sprickor", True),
        _item("castors_brakes", "Hjul och bromsar fungerar", True),
        _item("motor_functions", "Alla motorfunktioner fungerar"),
        _item("emergency_lowering", "Nödsänkning fungerar", True),
        _item("handset_cable", "Handkontroll och nätkabel hela", True),
        _item("side_rails", "Sidogrindar låser, mellanrum och höjd över madrass godkända", True),
        _item("protective_earth", "Skyddsjordsresistans (EN 62353)", True, "Ω", 0.0, 0.3, (0.0, 100.0)),
        _item("leakage_current", "Läckström (EN 62353)", True, "mA", 0.0, 0.5, (0.0, 100.0)),
        _item("insulation", "Isolationsresistans (EN 62353)", True, "MΩ", 2.0, 999.0, (0.0, 10000.0)),
        _item("lifting_pole", "Lyftbåge och handtag fast monterade"),
    ],
    "bed_lift": [
        _item("fixings", "Infästningar mot sängen fasta", True),
        _item("motor_functions", "Motorfunktioner fungerar"),
        _item("emergency_lowering", "Nödsänkning fungerar", True),
        _item("handset_cable", "Handkontroll och nätkabel hela", True),
        _item("protective_earth", "Skyddsjordsresistans (EN 62353)", True, "Ω", 0.0, 0.3, (0.0, 100.0)),
        _item("frame", "Ram och leder utan glapp"),
        _item("label", "Märkning och etikett läsbara"),
        _item("noise", "Inga onormala ljud vid körning"),
    ],
    "pressure_mattress": [
        _item("label_age", "Etikett och tillverkningsår kontrollerade"),
        _item("cover_outside", "Överdraget helt utan hål eller fläckar", True),
        _item("cover_inside", "Överdraget kontrollerat inifrån mot ljus", True),
        _item("foam", "Skummet utan skador eller fukt", True),
        _item("bottoming_out", "Bottningstest godkänt", True),
        _item("zipper", "Blixtlås fungerar"),
        _item("pump_cycle", "Luftmadrass: pumpen cyklar"),
        _item("alarms", "Luftmadrass: larm fungerar", True),
        _item("hoses", "Luftmadrass: slangar hela och anslutna"),
        _item("cpr_valve", "Luftmadrass: HLR-ventil fungerar", True),
    ],
    "standing_aid": [
        _item("frame_locks", "Ram och justeringslås håller", True),
        _item("knee_support", "Knästöd helt och justerbart"),
        _item("chest_support", "Bröststöd och remmar hela", True),
        _item("heel_support", "Hälstöd och fotplatta hela"),
        _item("castors_brakes", "Hjul och bromsar fungerar", True),
        _item("max_weight", "Maxvikt för brukaren kontrollerad", True, "kg", 0.0, 150.0, (0.0, 500.0)),
        _item("straps", "Bälten och spännen fungerar"),
        _item("label", "Märkning läsbar"),
    ],
    "communication_device": [
        _item("powers_on", "Startar och laddar korrekt"),
        _item("battery", "Batteritid tillräcklig för en dag"),
        _item("screen_switches", "Skärm eller kontakter fungerar"),
        _item("mounting", "Fäste och stativ sitter säkert", True),
        _item("speech_volume", "Talvolym tillräcklig"),
        _item("software_version", "Programvaran uppdaterad"),
        _item("vocabulary_backup", "Säkerhetskopia av ordförråd tagen"),
        _item("eye_tracking", "Ögonstyrning kalibrerad (om sådan finns)"),
    ],
}

# Fault descriptions for repair orders, per category (Swedish, as a caller would say it).
FAULTS: dict[str, list[str]] = {
    "powered_wheelchair": [
        "Joysticken svarar inte", "Stolen drar åt vänster", "Batteriet laddar inte",
        "Felkod blinkar på styrboxen", "Punktering på höger drivhjul", "Tiltfunktionen fungerar inte",
        "Konstigt ljud från motorn", "Armstödet har lossnat",
    ],
    "scooter": [
        "Mopeden startar inte", "Bromsen tar dåligt", "Punktering bak", "Batteriet räcker bara en kort sträcka",
        "Styrstången glappar",
    ],
    "ceiling_lift": [
        "Lyften går inte att köra uppåt", "Handkontrollen fungerar inte", "Lyftbandet ser slitet ut",
        "Lyften laddar inte", "Lyften stannar mitt i skenan",
    ],
    "mobile_lift": [
        "Benen går inte att sära", "Lyften sänker sig av sig själv", "Ett hjul har gått sönder",
        "Batteriet tar inte laddning",
    ],
    "lift_sling": ["Sömmen har gått upp på selen", "Etiketten går inte att läsa"],
    "care_bed": [
        "Sängen går inte att höja", "Ryggdelen går inte att sänka", "Handkontrollen fungerar inte",
        "Sidogrinden låser inte", "Bromsen på ett hjul fungerar inte", "Sängen piper och går inte att köra",
    ],
    "bed_lift": ["Ryggstödet går inte att höja", "Motorn låter konstigt"],
    "pressure_mattress": ["Pumpen larmar", "Madrassen känns platt", "Hål i överdraget"],
    "standing_aid": ["Knästödet går inte att låsa", "Bromsen fungerar inte"],
    "communication_device": [
        "Talapparaten startar inte", "Skärmen är svart", "Ögonstyrningen fungerar inte",
        "Fästet vid rullstolen har lossnat",
    ],
    "rollator": [
        "Bromsen tar inte", "Rollatorn går inte att fälla ihop", "Ett hjul har lossnat",
        "Korgen har gått sönder",
    ],
    "manual_wheelchair": [
        "Punktering på drivhjulet", "Bromsen tar inte", "Fotstödet har gått sönder",
        "Ryggen behöver justeras", "Länkhjulet fladdrar",
    ],
    "shower_chair": ["Benet går inte att justera", "Sitsen har spruckit"],
    "toilet_raiser": ["Förhöjningen sitter inte fast"],
    "commode_chair": ["Hjulet låser inte", "Hinken passar inte"],
    "pressure_cushion": ["Dynan tappar luft", "Överdraget är trasigt"],
    "walking_table": ["Höjdinställningen glider", "Ett hjul har lossnat"],
}
