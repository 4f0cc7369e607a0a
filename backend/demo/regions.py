"""Many regions in one installation: the demo at scale N > 1 loads N centres of Västmanland's shape.

Sweden's 21 regions are together 35–40 times Västmanland, and the large ones run several
centres, so a national installation holds about 35 organisations. Each is built as Västmanland
is (the same builders, its own seed: other people, devices and orders) and then moved: its own
name, slug and phone, its own municipalities in place of Västmanland's ten (largest for largest),
its care units and patients' towns renamed with them, and every coordinate shifted so the region
lies around its own main town. The first centre is Västmanland itself, unchanged, so scale 1 and
the first region of scale 35 are the same data.

Where a region has fewer than ten municipalities, the missing cost bearers are districts of its
largest town (a municipality's stadsdelar pay for their own devices in several of them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from backend.demo import names as N


@dataclass(frozen=True)
class Centre:
    slug: str
    name: str  # the organisation
    region: str  # the region's own cost bearers are named after it
    latitude: float  # the main town, where Västerås is in Västmanland's shape
    longitude: float
    area_code: str
    municipalities: tuple[str, ...]  # ten, largest first (Västerås's place first)
    phone: str


def _centre(slug: str, name: str, region: str, lat: float, lon: float, area: str, municipalities: str,
            phone: str) -> Centre:
    names = tuple(m.strip() for m in municipalities.split(","))
    assert len(names) == 10, (slug, len(names))
    return Centre(slug, name, region, lat, lon, area, names, phone)


VASTERAS = next(t for t in N.TOWNS if t.name == "Västerås")
# Västmanland's municipalities, largest first: the order the others' names replace them in.
SHAPE = [name for name, _, _, _ in sorted(N.MUNICIPALITIES, key=lambda m: -m[2])]

CENTRES: list[Centre] = [
    _centre("vastmanland", "Hjälpmedelscentrum Västmanland", "Region Västmanland", VASTERAS.latitude,
            VASTERAS.longitude, "021", ", ".join(SHAPE), "021-17 30 00"),
    _centre("uppsala", "Hjälpmedelscentralen Uppsala", "Region Uppsala", 59.8586, 17.6389, "018",
            "Uppsala, Enköping, Östhammar, Tierp, Håbo, Knivsta, Heby, Älvkarleby, Uppsala Gränby, Uppsala Sävja",
            "018-611 00 00"),
    _centre("sormland", "Hjälpmedelscentrum Sörmland", "Region Sörmland", 59.3712, 16.5098, "016",
            "Eskilstuna, Nyköping, Katrineholm, Strängnäs, Flen, Oxelösund, Trosa, Gnesta, Vingåker, Eskilstuna Torshälla",
            "016-10 40 00"),
    _centre("orebro", "Hjälpmedelscentralen Örebro", "Region Örebro län", 59.2741, 15.2066, "019",
            "Örebro, Karlskoga, Kumla, Lindesberg, Hallsberg, Askersund, Nora, Degerfors, Hällefors, Laxå",
            "019-602 10 00"),
    _centre("ostergotland-linkoping", "Hjälpmedelscentrum Östergötland Linköping", "Region Östergötland",
            58.4108, 15.6214, "013",
            "Linköping, Motala, Mjölby, Finspång, Vadstena, Ödeshög, Boxholm, Kinda, Ydre, Åtvidaberg",
            "013-22 00 00"),
    _centre("ostergotland-norrkoping", "Hjälpmedelscentrum Östergötland Norrköping", "Region Östergötland",
            58.5877, 16.1924, "011",
            "Norrköping, Söderköping, Valdemarsvik, Norrköping Eneby, Norrköping Skärblacka, Norrköping Kvillinge, "
            "Norrköping Östra Husby, Norrköping Kolmården, Norrköping Krokek, Norrköping Vikbolandet",
            "011-22 50 00"),
    _centre("jonkoping", "Hjälpmedelscentralen Jönköping", "Region Jönköpings län", 57.7826, 14.1618, "036",
            "Jönköping, Värnamo, Nässjö, Vetlanda, Gislaved, Tranås, Eksjö, Gnosjö, Vaggeryd, Habo",
            "036-32 40 00"),
    _centre("kronoberg", "Hjälpmedelscentralen Kronoberg", "Region Kronoberg", 56.8777, 14.8091, "0470",
            "Växjö, Ljungby, Älmhult, Alvesta, Tingsryd, Markaryd, Uppvidinge, Lessebo, Växjö Braås, Växjö Rottne",
            "0470-58 80 00"),
    _centre("kalmar", "Hjälpmedelscentralen Kalmar län", "Region Kalmar län", 56.6634, 16.3568, "0480",
            "Kalmar, Västervik, Oskarshamn, Nybro, Vimmerby, Mönsterås, Hultsfred, Emmaboda, Mörbylånga, Borgholm",
            "0480-840 00"),
    _centre("gotland", "Hjälpmedelscentralen Gotland", "Region Gotland", 57.6348, 18.2948, "0498",
            "Gotland Visby, Gotland Hemse, Gotland Slite, Gotland Klintehamn, Gotland Roma, Gotland Fårösund, "
            "Gotland Ljugarn, Gotland Burgsvik, Gotland Tingstäde, Gotland Dalhem",
            "0498-26 80 00"),
    _centre("blekinge", "Hjälpmedelscentralen Blekinge", "Region Blekinge", 56.1612, 15.5869, "0455",
            "Karlskrona, Karlshamn, Ronneby, Sölvesborg, Olofström, Karlskrona Lyckeby, Karlskrona Jämjö, "
            "Karlshamn Mörrum, Ronneby Kallinge, Sölvesborg Mjällby",
            "0455-73 40 00"),
    _centre("skane-malmo", "Hjälpmedelscentrum Skåne Malmö", "Region Skåne", 55.6050, 13.0038, "040",
            "Malmö, Trelleborg, Vellinge, Svedala, Burlöv, Skurup, Malmö Limhamn, Malmö Husie, Malmö Fosie, Malmö Rosengård",
            "040-623 90 00"),
    _centre("skane-lund", "Hjälpmedelscentrum Skåne Lund", "Region Skåne", 55.7047, 13.1910, "046",
            "Lund, Eslöv, Kävlinge, Lomma, Staffanstorp, Höör, Hörby, Sjöbo, Ystad, Tomelilla", "046-17 10 00"),
    _centre("skane-helsingborg", "Hjälpmedelscentrum Skåne Helsingborg", "Region Skåne", 56.0465, 12.6945, "042",
            "Helsingborg, Landskrona, Ängelholm, Höganäs, Klippan, Åstorp, Bjuv, Båstad, Örkelljunga, Svalöv",
            "042-406 10 00"),
    _centre("skane-kristianstad", "Hjälpmedelscentrum Skåne Kristianstad", "Region Skåne", 56.0294, 14.1567, "044",
            "Kristianstad, Hässleholm, Simrishamn, Osby, Bromölla, Perstorp, Östra Göinge, Höganäs Nyhamnsläge, "
            "Kristianstad Åhus, Hässleholm Tyringe",
            "044-309 30 00"),
    _centre("halland", "Hjälpmedelscentralen Halland", "Region Halland", 56.6745, 12.8578, "035",
            "Halmstad, Kungsbacka, Varberg, Falkenberg, Laholm, Hylte, Halmstad Getinge, Kungsbacka Onsala, "
            "Varberg Veddige, Falkenberg Ullared",
            "035-13 48 00"),
    _centre("vgr-goteborg", "Hjälpmedelscentralen Västra Götaland Göteborg", "Västra Götalandsregionen",
            57.7089, 11.9746, "031",
            "Göteborg, Mölndal, Partille, Härryda, Lerum, Kungälv, Öckerö, Göteborg Hisingen, Göteborg Angered, "
            "Göteborg Majorna",
            "031-335 00 00"),
    _centre("vgr-boras", "Hjälpmedelscentralen Västra Götaland Borås", "Västra Götalandsregionen", 57.7210, 12.9401,
            "033", "Borås, Alingsås, Ulricehamn, Mark, Vårgårda, Herrljunga, Bollebygd, Svenljunga, Tranemo, Borås Dalsjöfors",
            "033-616 10 00"),
    _centre("vgr-skovde", "Hjälpmedelscentralen Västra Götaland Skövde", "Västra Götalandsregionen", 58.3912, 13.8451,
            "0500", "Skövde, Lidköping, Falköping, Mariestad, Skara, Tidaholm, Hjo, Götene, Töreboda, Gullspång",
            "0500-43 10 00"),
    _centre("vgr-trollhattan", "Hjälpmedelscentralen Västra Götaland Trollhättan", "Västra Götalandsregionen",
            58.2837, 12.2886, "0520",
            "Trollhättan, Uddevalla, Vänersborg, Lysekil, Stenungsund, Orust, Tjörn, Strömstad, Åmål, Mellerud",
            "0520-49 40 00"),
    _centre("varmland", "Hjälpmedelscentralen Värmland", "Region Värmland", 59.3793, 13.5036, "054",
            "Karlstad, Arvika, Kristinehamn, Hammarö, Säffle, Sunne, Torsby, Filipstad, Forshaga, Grums",
            "054-61 50 00"),
    _centre("dalarna", "Hjälpmedelscentralen Dalarna", "Region Dalarna", 60.6065, 15.6355, "023",
            "Falun, Borlänge, Mora, Ludvika, Avesta, Leksand, Hedemora, Rättvik, Malung-Sälen, Säter",
            "023-49 00 00"),
    _centre("gavleborg", "Hjälpmedelscentralen Gävleborg", "Region Gävleborg", 60.6749, 17.1413, "026",
            "Gävle, Sandviken, Hudiksvall, Bollnäs, Söderhamn, Ljusdal, Ovanåker, Hofors, Ockelbo, Nordanstig",
            "026-15 40 00"),
    _centre("vasternorrland", "Hjälpmedelscentralen Västernorrland", "Region Västernorrland", 62.3908, 17.3069,
            "060", "Sundsvall, Örnsköldsvik, Härnösand, Kramfors, Timrå, Sollefteå, Ånge, Sundsvall Njurunda, "
            "Sundsvall Matfors, Örnsköldsvik Bjästa",
            "060-18 10 00"),
    _centre("jamtland", "Hjälpmedelscentralen Jämtland Härjedalen", "Region Jämtland Härjedalen", 63.1792, 14.6357,
            "063", "Östersund, Krokom, Strömsund, Åre, Härjedalen, Berg, Bräcke, Ragunda, Östersund Brunflo, "
            "Östersund Lit", "063-14 20 00"),
    _centre("vasterbotten", "Hjälpmedelscentralen Västerbotten", "Region Västerbotten", 63.8258, 20.2630, "090",
            "Umeå, Skellefteå, Lycksele, Vännäs, Vindeln, Robertsfors, Nordmaling, Storuman, Vilhelmina, Bjurholm",
            "090-785 00 00"),
    _centre("norrbotten", "Hjälpmedelscentralen Norrbotten", "Region Norrbotten", 65.5848, 22.1547, "0920",
            "Luleå, Piteå, Boden, Kiruna, Gällivare, Kalix, Älvsbyn, Haparanda, Överkalix, Jokkmokk",
            "0920-28 40 00"),
    _centre("stockholm-norr", "Hjälpmedelscentrum Stockholm Norr", "Region Stockholm", 59.4439, 18.0687, "08",
            "Täby, Sollentuna, Upplands Väsby, Vallentuna, Österåker, Danderyd, Norrtälje, Sigtuna, Vaxholm, Lidingö",
            "08-123 10 00"),
    _centre("stockholm-syd", "Hjälpmedelscentrum Stockholm Syd", "Region Stockholm", 59.2353, 17.9812, "08",
            "Huddinge, Botkyrka, Haninge, Södertälje, Tyresö, Nynäshamn, Salem, Nykvarn, Stockholm Skärholmen, "
            "Stockholm Farsta", "08-123 20 00"),
    _centre("stockholm-vast", "Hjälpmedelscentrum Stockholm Väst", "Region Stockholm", 59.4170, 17.8290, "08",
            "Järfälla, Solna, Sundbyberg, Upplands-Bro, Ekerö, Stockholm Bromma, Stockholm Hässelby-Vällingby, "
            "Stockholm Spånga-Tensta, Stockholm Rinkeby-Kista, Stockholm Kungsholmen", "08-123 30 00"),
    _centre("stockholm-ost", "Hjälpmedelscentrum Stockholm Ost", "Region Stockholm", 59.3105, 18.1637, "08",
            "Nacka, Värmdö, Stockholm Södermalm, Stockholm Östermalm, Stockholm Norrmalm, Stockholm Enskede-Årsta-Vantör, "
            "Stockholm Hägersten-Älvsjö, Stockholm Skarpnäck, Nacka Saltsjöbaden, Värmdö Gustavsberg",
            "08-123 40 00"),
    _centre("stockholm-city", "Hjälpmedelscentrum Stockholm Innerstad", "Region Stockholm", 59.3293, 18.0686, "08",
            "Stockholm Vasastan, Stockholm Kungsholmen Fridhemsplan, Stockholm Södermalm Högalid, Stockholm Gärdet, "
            "Stockholm Hammarby sjöstad, Stockholm Liljeholmen, Stockholm Hägerstensåsen, Stockholm Årsta, "
            "Stockholm Gamla stan, Stockholm Djurgården", "08-123 50 00"),
    _centre("vgr-goteborg-nordost", "Hjälpmedelscentralen Västra Götaland Göteborg Nordost",
            "Västra Götalandsregionen", 57.7900, 12.0400, "031",
            "Göteborg Nordost, Ale, Lilla Edet, Göteborg Bergsjön, Göteborg Kortedala, Göteborg Lärjedalen, "
            "Göteborg Backa, Göteborg Tuve, Göteborg Torslanda, Göteborg Biskopsgården", "031-335 10 00"),
    _centre("skane-malmo-innerstad", "Hjälpmedelscentrum Skåne Malmö Innerstad", "Region Skåne", 55.5950, 13.0200,
            "040", "Malmö Centrum, Malmö Södra innerstaden, Malmö Västra innerstaden, Malmö Kirseberg, Malmö Oxie, "
            "Malmö Hyllie, Malmö Bunkeflo, Malmö Västra hamnen, Malmö Slottsstaden, Malmö Värnhem", "040-623 91 00"),
    _centre("stockholm-sodertorn", "Hjälpmedelscentrum Stockholm Södertörn", "Region Stockholm", 59.2010, 17.8300,
            "08", "Södertälje Centrum, Järna, Hölö-Mörkö, Enhörna, Haninge Jordbro, Haninge Brandbergen, "
            "Botkyrka Tumba, Botkyrka Fittja, Huddinge Flemingsberg, Huddinge Skogås", "08-123 60 00"),
]
MAX_REGIONS = len(CENTRES)
_MUNICIPALITY_OF = {t.name: t.municipality for t in N.TOWNS}


@dataclass(frozen=True)
class Move:
    """How one centre's rows differ from Västmanland's: names replaced, coordinates shifted."""

    centre: Centre
    d_latitude: float
    d_longitude: float
    _names: dict[str, str]
    _pattern: re.Pattern | None

    @classmethod
    def to(cls, centre: Centre) -> Move:
        names = dict(zip(SHAPE, centre.municipalities))
        names["Region Västmanland"] = centre.region
        names["Västmanlands sjukhus"] = f"{centre.region.removeprefix('Region ')}s sjukhus"
        names = {old: new for old, new in names.items() if old != new}
        pattern = re.compile("|".join(sorted(map(re.escape, names), key=len, reverse=True))) if names else None
        return cls(centre, centre.latitude - VASTERAS.latitude, centre.longitude - VASTERAS.longitude, names, pattern)

    def text(self, value: str | None) -> str | None:
        if not value or self._pattern is None:
            return value
        return self._pattern.sub(lambda m: self._names[m.group(0)], value)

    def phone(self, value: str | None) -> str | None:
        if not value or "-" not in value or value.startswith(N.FICTION_MOBILE_PREFIX[:3]):
            return value
        return self.centre.area_code + value[value.index("-"):]


def move(region, fittings, faults, resources, centre: Centre) -> None:
    """Rename and shift one built region's rows in place, from Västmanland to the centre."""
    m = Move.to(centre)
    if m._pattern is None and not m.d_latitude and not m.d_longitude:
        return
    for i, cb in enumerate(region.cost_bearers):
        cb["name"] = m.text(cb["name"])
        cb["code"] = f"{centre.area_code.lstrip('0')[:2]}{i:02d}" if cb["kind"] == "municipality" else cb["code"]
    for unit in region.care_units:
        unit["name"] = m.text(unit["name"])
        unit["phone"] = m.phone(unit["phone"])
    for p in region.patients:
        # The smaller towns of Västmanland's municipalities have no counterpart: their homes lie in
        # the municipality that took the place of theirs.
        p["city"] = m.text(_MUNICIPALITY_OF.get(p["city"], p["city"]))
        if p["latitude"] is not None:
            p["latitude"] = round(p["latitude"] + m.d_latitude, 6)
            p["longitude"] = round(p["longitude"] + m.d_longitude, 6)
    for r in resources.resources:
        r["start_label"] = m.text(r["start_label"])
        r["start_latitude"] += m.d_latitude
        r["start_longitude"] += m.d_longitude
    for report in faults.reports:
        report["address"] = m.text(report["address"])
