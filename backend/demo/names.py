"""Static material for the demo region: Swedish names, streets, towns and Västmanland's units.

Everything here is plain data; the demo builders (`backend.demo.*`) draw from it with a
seeded random generator. Weights are rough relative frequencies, not statistics.
"""

from __future__ import annotations

from dataclasses import dataclass

# --- People -----------------------------------------------------------------------

# Given names common among people born 1925–1960 (most of the HMC's patients).
OLDER_FEMALE_NAMES: list[tuple[str, int]] = [
    ("Anna", 30), ("Maria", 25), ("Margareta", 30), ("Elisabeth", 22), ("Eva", 28),
    ("Birgitta", 30), ("Kristina", 22), ("Karin", 25), ("Ingrid", 22), ("Marianne", 18),
    ("Ulla", 16), ("Gunilla", 14), ("Barbro", 16), ("Inger", 18), ("Kerstin", 18),
    ("Britt", 14), ("Gun", 10), ("Agneta", 12), ("Berit", 12), ("Gunnel", 8),
    ("Astrid", 8), ("Elsa", 8), ("Ingegerd", 8), ("Siv", 9), ("Maj", 7),
    ("Solveig", 7), ("Märta", 6), ("Rut", 6), ("Gudrun", 6), ("Ann-Marie", 7),
    ("Lena", 12), ("Monica", 10), ("Birgit", 10), ("Ingela", 6), ("Yvonne", 6),
    ("Raija", 3), ("Marja-Liisa", 2), ("Pirkko", 2), ("Aino", 2), ("Fatima", 2),
]
OLDER_MALE_NAMES: list[tuple[str, int]] = [
    ("Lars", 30), ("Karl", 22), ("Erik", 25), ("Per", 20), ("Anders", 20),
    ("Jan", 24), ("Bo", 16), ("Nils", 16), ("Lennart", 16), ("Gunnar", 14),
    ("Sven", 16), ("Bengt", 14), ("Kjell", 12), ("Leif", 12), ("Rolf", 12),
    ("Göran", 12), ("Åke", 12), ("Stig", 10), ("Olle", 8), ("Ingvar", 8),
    ("Bertil", 8), ("Hans", 14), ("Rune", 7), ("Sten", 6), ("Kurt", 6),
    ("Arne", 8), ("Gösta", 6), ("Roland", 7), ("Tore", 5), ("Ulf", 8),
    ("Björn", 8), ("Curt", 4), ("Sture", 4), ("Seppo", 2), ("Pekka", 2),
    ("Kalevi", 2), ("Mohammed", 2), ("Ahmad", 1),
]
# Given names of people born after 1960.
YOUNGER_FEMALE_NAMES: list[tuple[str, int]] = [
    ("Anna", 20), ("Sara", 14), ("Emma", 14), ("Johanna", 12), ("Maria", 10),
    ("Linnea", 10), ("Elin", 10), ("Camilla", 8), ("Jenny", 8), ("Malin", 8),
    ("Sofia", 10), ("Maja", 8), ("Ella", 6), ("Wilma", 6), ("Alice", 6),
    ("Ebba", 6), ("Elsa", 6), ("Amina", 4), ("Fatima", 4), ("Hanna", 8),
    ("Lisa", 8), ("Ida", 8), ("Frida", 6), ("Julia", 6), ("Nour", 2),
]
YOUNGER_MALE_NAMES: list[tuple[str, int]] = [
    ("Johan", 14), ("Erik", 14), ("Oscar", 10), ("Daniel", 10), ("Mikael", 10),
    ("Andreas", 10), ("Fredrik", 10), ("Niklas", 8), ("Marcus", 8), ("Alexander", 8),
    ("William", 8), ("Lucas", 8), ("Elias", 8), ("Hugo", 6), ("Liam", 6),
    ("Noah", 6), ("Viktor", 6), ("Mohammed", 5), ("Ali", 4), ("Omar", 3),
    ("Adam", 6), ("Filip", 6), ("Emil", 8), ("Anton", 6), ("Jonas", 8),
]
FAMILY_NAMES: list[tuple[str, int]] = [
    ("Andersson", 228), ("Johansson", 226), ("Karlsson", 200), ("Nilsson", 152),
    ("Eriksson", 135), ("Larsson", 114), ("Olsson", 103), ("Persson", 99),
    ("Svensson", 90), ("Gustafsson", 88), ("Pettersson", 83), ("Jonsson", 66),
    ("Jansson", 45), ("Hansson", 36), ("Bengtsson", 32), ("Jönsson", 30),
    ("Lindberg", 27), ("Jakobsson", 27), ("Magnusson", 26), ("Olofsson", 26),
    ("Lindström", 25), ("Lindqvist", 24), ("Lindgren", 24), ("Berg", 22),
    ("Axelsson", 22), ("Bergström", 22), ("Lundberg", 22), ("Lind", 21),
    ("Lundgren", 21), ("Lundqvist", 20), ("Mattsson", 20), ("Berglund", 19),
    ("Fredriksson", 18), ("Sandberg", 18), ("Henriksson", 18), ("Forsberg", 17),
    ("Sjöberg", 17), ("Ali", 17), ("Wallin", 17), ("Mohammed", 16),
    ("Engström", 16), ("Eklund", 16), ("Danielsson", 16), ("Lundin", 15),
    ("Håkansson", 15), ("Björk", 15), ("Bergman", 15), ("Gunnarsson", 15),
    ("Holm", 14), ("Wikström", 14), ("Samuelsson", 14), ("Isaksson", 14),
    ("Fransson", 14), ("Bergqvist", 14), ("Nyström", 13), ("Holmberg", 13),
    ("Arvidsson", 13), ("Löfgren", 13), ("Söderberg", 13), ("Nyberg", 13),
    ("Blomqvist", 12), ("Claesson", 12), ("Nordström", 12), ("Mårtensson", 12),
    ("Lundström", 12), ("Ahmed", 11), ("Viklund", 11), ("Björklund", 11),
    ("Eliasson", 11), ("Berggren", 11), ("Hassan", 10), ("Sandström", 10),
    ("Nordin", 10), ("Ström", 10), ("Åberg", 10), ("Hermansson", 10),
    ("Ekström", 10), ("Holmgren", 10), ("Sundberg", 9), ("Hedlund", 9),
    ("Dahlberg", 9), ("Hellström", 9), ("Sjögren", 9), ("Abrahamsson", 9),
    ("Falk", 8), ("Öberg", 8), ("Andreasson", 8), ("Blom", 8), ("Strand", 8),
    ("Ek", 8), ("Jonasson", 8), ("Hedberg", 7), ("Norberg", 6), ("Virtanen", 4),
    ("Korhonen", 3), ("Nieminen", 3), ("Mäkinen", 3), ("Hämäläinen", 2),
]

# --- Places -----------------------------------------------------------------------

COMMON_STREETS: list[str] = [
    "Storgatan", "Kungsgatan", "Drottninggatan", "Skolgatan", "Kyrkogatan",
    "Järnvägsgatan", "Stationsgatan", "Parkvägen", "Björkvägen", "Tallvägen",
    "Lindvägen", "Ekvägen", "Granvägen", "Lönnvägen", "Aspvägen", "Rönnvägen",
    "Ängsvägen", "Solvägen", "Trädgårdsgatan", "Nygatan", "Bruksgatan",
    "Smedjegatan", "Skogsvägen", "Backvägen", "Hagvägen", "Villavägen",
    "Industrigatan", "Östra Ringvägen", "Västra Ringvägen", "Norra Vägen",
    "Södra Vägen", "Prästgårdsvägen", "Klockarvägen", "Sjövägen", "Strandvägen",
    "Blåklintsvägen", "Vitsippevägen", "Liljevägen", "Syrenvägen", "Fältvägen",
]


@dataclass(frozen=True)
class Town:
    name: str
    municipality: str  # the cost bearer's name
    latitude: float
    longitude: float
    spread: float  # standard deviation in degrees of latitude for scattered homes
    weight: float  # share of the municipality's patients
    postal_range: tuple[int, int]  # five-digit postal codes, first and last: 72100 -> "721 00"
    streets: tuple[str, ...] = ()


TOWNS: list[Town] = [
    Town("Västerås", "Västerås", 59.6099, 16.5448, 0.030, 0.86, (72130, 72481), (
        "Vasagatan", "Stora Gatan", "Kopparbergsvägen", "Malmabergsgatan", "Sigurdsgatan",
        "Vallbyvägen", "Skultunavägen", "Bäckbyvägen", "Norrleden", "Oxbacksgatan",
        "Sturegatan", "Karlsgatan", "Emausvägen", "Hammarbygatan", "Pilgatan",
        "Rönnbergagatan", "Djäkneberget", "Viksängsgatan", "Råbyvägen", "Hälla Ringväg",
    )),
    Town("Skultuna", "Västerås", 59.7166, 16.4255, 0.008, 0.05, (72630, 72633)),
    Town("Tillberga", "Västerås", 59.6812, 16.6200, 0.007, 0.04, (72596, 72597)),
    Town("Dingtuna", "Västerås", 59.5738, 16.3818, 0.008, 0.03, (72595, 72595)),
    Town("Irsta", "Västerås", 59.5956, 16.7021, 0.008, 0.02, (72592, 72593)),
    Town("Köping", "Köping", 59.5140, 15.9926, 0.018, 0.86, (73130, 73143), (
        "Östra Långgatan", "Västra Långgatan", "Glasgatan", "Scheelegatan", "Ågatan",
    )),
    Town("Kolsva", "Köping", 59.6003, 15.8395, 0.008, 0.14, (73150, 73152)),
    Town("Sala", "Sala", 59.9199, 16.6066, 0.016, 0.78, (73330, 73341), (
        "Rådmansgatan", "Norrby Allé", "Bergmansgatan", "Gruvgatan", "Ekebygatan",
    )),
    Town("Ransta", "Sala", 59.8054, 16.6179, 0.006, 0.10, (73397, 73397)),
    Town("Möklinta", "Sala", 60.0833, 16.5333, 0.010, 0.06, (73399, 73399)),
    Town("Västerfärnebo", "Sala", 59.9667, 16.2833, 0.010, 0.06, (73396, 73396)),
    Town("Fagersta", "Fagersta", 60.0042, 15.7932, 0.014, 0.92, (73730, 73743), (
        "Fårbogatan", "Brogatan", "Västanforsgatan", "Hantverksvägen",
    )),
    Town("Ängelsberg", "Fagersta", 59.9667, 16.0167, 0.006, 0.08, (73791, 73791)),
    Town("Arboga", "Arboga", 59.3939, 15.8388, 0.012, 1.0, (73230, 73248), (
        "Västra Storgatan", "Östra Storgatan", "Nygatan", "Kapellgatan", "Jäders bruk",
    )),
    Town("Hallstahammar", "Hallstahammar", 59.6136, 16.2285, 0.012, 0.82, (73430, 73440), (
        "Hagvägen", "Kanalvägen", "Strömsholmsvägen", "Sörkvarnsvägen",
    )),
    Town("Kolbäck", "Hallstahammar", 59.5667, 16.2333, 0.006, 0.18, (73450, 73452)),
    Town("Kungsör", "Kungsör", 59.4220, 16.0982, 0.010, 0.85, (73630, 73637), (
        "Drottning Kristinas väg", "Kungsgatan", "Malmgatan",
    )),
    Town("Valskog", "Kungsör", 59.4333, 15.9500, 0.005, 0.15, (73691, 73691)),
    Town("Norberg", "Norberg", 60.0656, 15.9245, 0.010, 0.88, (73830, 73835), (
        "Kungsgatan", "Malmgatan", "Prästgatan",
    )),
    Town("Kärrgruvan", "Norberg", 60.0833, 15.9500, 0.005, 0.12, (73892, 73892)),
    Town("Skinnskatteberg", "Skinnskatteberg", 59.8298, 15.6926, 0.009, 0.82, (73930, 73932), (
        "Bruksvägen", "Kolarvägen",
    )),
    Town("Riddarhyttan", "Skinnskatteberg", 59.8167, 15.5500, 0.005, 0.18, (73991, 73992)),
    Town("Surahammar", "Surahammar", 59.7105, 16.2178, 0.010, 0.76, (73530, 73535), (
        "Valsverksvägen", "Kyrkvägen",
    )),
    Town("Virsbo", "Surahammar", 59.8688, 16.0860, 0.006, 0.24, (73061, 73061)),
]

# The ten municipalities: name, real municipality code, share of the region's
# population (roughly 2024 figures), area code for phone numbers.
MUNICIPALITIES: list[tuple[str, str, float, str]] = [
    ("Arboga", "1984", 14_100, "0589"),
    ("Fagersta", "1982", 13_400, "0223"),
    ("Hallstahammar", "1961", 16_300, "0220"),
    ("Kungsör", "1960", 8_700, "0227"),
    ("Köping", "1983", 26_400, "0221"),
    ("Norberg", "1962", 5_700, "0223"),
    ("Sala", "1981", 23_100, "0224"),
    ("Skinnskatteberg", "1904", 4_400, "0222"),
    ("Surahammar", "1907", 10_200, "0220"),
    ("Västerås", "1980", 158_000, "021"),
]

REGIONAL_COST_BEARERS: list[tuple[str, str]] = [
    ("R01", "Region Västmanland – Primärvård"),
    ("R02", "Region Västmanland – Habilitering"),
    ("R03", "Region Västmanland – Rehabilitering/Specialistvård"),
]

# Regional care units: (cost-bearer code, name, municipality the unit sits in, kind).
# kind steers which patients the unit gets: "primary", "habilitation", "specialist".
REGIONAL_CARE_UNITS: list[tuple[str, str, str, str]] = [
    ("R01", "Vårdcentralen Bäckby", "Västerås", "primary"),
    ("R01", "Vårdcentralen Oxbacken", "Västerås", "primary"),
    ("R01", "Vårdcentralen Viksäng", "Västerås", "primary"),
    ("R01", "Vårdcentralen Skiljebo", "Västerås", "primary"),
    ("R01", "Vårdcentralen Önsta-Gryta", "Västerås", "primary"),
    ("R01", "Vårdcentralen Skultuna", "Västerås", "primary"),
    ("R01", "Vårdcentralen Köping", "Köping", "primary"),
    ("R01", "Vårdcentralen Sala Väsby", "Sala", "primary"),
    ("R01", "Vårdcentralen Fagersta", "Fagersta", "primary"),
    ("R01", "Vårdcentralen Arboga", "Arboga", "primary"),
    ("R01", "Vårdcentralen Hallstahammar", "Hallstahammar", "primary"),
    ("R01", "Vårdcentralen Kungsör", "Kungsör", "primary"),
    ("R01", "Vårdcentralen Norberg", "Norberg", "primary"),
    ("R01", "Vårdcentralen Surahammar", "Surahammar", "primary"),
    ("R01", "Vårdcentralen Skinnskatteberg", "Skinnskatteberg", "primary"),
    ("R02", "Vuxenhabiliteringen Västerås", "Västerås", "habilitation"),
    ("R02", "Barn- och ungdomshabiliteringen Västerås", "Västerås", "habilitation"),
    ("R02", "Habiliteringen Köping–Fagersta", "Köping", "habilitation"),
    ("R03", "Neurorehab, Västmanlands sjukhus Västerås", "Västerås", "specialist"),
    ("R03", "Geriatriska kliniken, Västmanlands sjukhus Västerås", "Västerås", "specialist"),
    ("R03", "Rehabiliteringsmedicin Västerås", "Västerås", "specialist"),
    ("R03", "Ortopedkliniken Västerås", "Västerås", "specialist"),
]


def municipal_care_units(municipality: str) -> list[str]:
    """The municipality's own prescribing units (hemsjukvård and rehab)."""
    if municipality == "Västerås":
        return [
            "Hemsjukvården Västerås Norr",
            "Hemsjukvården Västerås Syd",
            "Kommunrehab Västerås Öst",
            "Kommunrehab Västerås Väst",
        ]
    return [f"Hemsjukvården {municipality}", f"Kommunrehab {municipality}"]


# --- Patients' homes --------------------------------------------------------------

ACCESS_NOTES: list[tuple[str, int]] = [
    ("Nyckel i nyckelgömma vid dörren", 20),
    ("Hund i hemmet", 12),
    ("Katt i hemmet, stäng dörren", 6),
    ("Ring på innan, brukaren hör dåligt", 10),
    ("Ingång från gården", 8),
    ("Hiss saknas, tredje våningen", 6),
    ("Hemtjänsten finns på plats 08–09", 8),
    ("Kontakta anhörig innan besök", 10),
    ("Parkering på gästplats framför huset", 6),
    ("Trappa upp till entrén, ingen ramp", 5),
    ("Brukaren talar finska, anhörig tolkar", 3),
    ("Rökfritt hem, ta av skorna", 6),
]

# Phone numbers reserved by PTS for use in fiction and examples (070-174 06 05 … 99),
# so that no demo number rings a real person.
FICTION_MOBILE_PREFIX = "070-174 06"
FICTION_MOBILE_RANGE = (5, 99)

CANCEL_REASONS: list[tuple[str, int]] = [
    ("Brukaren ej anträffbar", 40),
    ("Fel ordertyp vald – ny order skapad", 15),
    ("Dubblettanmälan", 15),
    ("Felet åtgärdat av personal på plats", 10),
    ("Hjälpmedlet redan återlämnat", 8),
    ("Brukaren har flyttat utanför regionen", 5),
    ("Brukaren tackar nej till besök", 7),
]

# --- Staff ------------------------------------------------------------------------

# The first person of each role is the one a newcomer signs in as in the demo.
DEMO_PEOPLE = {
    "technician": "Mikael Lindqvist",
    "consultant": "Helena Forsberg",
    "prescriber": "Sara Nyström",
    "coordinator": "Jenny Åberg",
    "admin": "Patrik Holmgren",
}
