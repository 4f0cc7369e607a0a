"""The indicators the boards follow, one definition each: its name and rule in Swedish for the
page, its default target (an organisation sets its own, kpi_target), how its monthly value is
read from the KPI summary (facts.py fills it), and the splits it allows. A new indicator is one
more `Indicator` here and, if it counts something new, one more block in facts.py.

Kinds of value:
- share:  hits / total (a service level), a target share, higher is better;
- count:  total (a volume or a backlog), lower is better when it has a target;
- mean:   amount / total (cost per order, SEK), lower is better;
- sum:    amount (devices on loan at the month's end);
- ratio:  amount / total (km driven over devices on loan), lower is better.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

# The dimensions a split or filter may use: query name -> (kpi_fact column, Swedish label).
DIMENSIONS: dict[str, tuple[str, str]] = {
    "kommun": ("cost_bearer", "Kommun/kostnadsbärare"),
    "omrade": ("area", "Produktområde/kategori"),
    "typ": ("order_type", "Arbetsordertyp"),
    "personal": ("staff", "Tekniker/konsulent"),
    "vardenhet": ("care_unit", "Vårdenhet"),
    "alder": ("age_band", "Åldersgrupp"),
    "kon": ("sex", "Kön"),
}
PATIENT_DIMENSIONS = frozenset({"alder", "kon"})
AGE_BANDS = [("0-17", "0–17 år"), ("18-64", "18–64 år"), ("65-79", "65–79 år"), ("80+", "80 år och äldre")]
SEX_LABELS = {"F": "Kvinna", "M": "Man", "X": "Annat/okänt"}
SMALL_CELL = 5  # fewer patients than this in a cell: shown as "< 5"


@dataclass(frozen=True)
class Indicator:
    code: str  # in the address: /oversikt/kpi/<code>
    name: str
    rule: str  # the rule in words, as the page and the board report say it
    kind: str  # share | count | mean | sum
    target: Decimal | None  # the default target; None: none until the organisation sets one
    unit: str = "%"
    facts: str | None = None  # the kpi_fact indicator it reads (default: its own code)
    dimensions: tuple[str, ...] = ()  # the splits and filters it allows
    patient_linked: bool = False  # splits by age and sex, small cells suppressed
    prescriber: bool = False  # a prescriber sees it, for their own unit
    higher_is_better: bool = True
    note: str = ""

    @property
    def source(self) -> str:
        return self.facts or self.code

    @property
    def splittable(self) -> bool:
        return bool(self.dimensions)


ORDER_DIMENSIONS = ("kommun", "omrade", "typ", "personal", "alder", "kon")

INDICATORS: list[Indicator] = [
    Indicator(
        "utprovning", "Utprovningstid erbjuden inom 15 arbetsdagar",
        "Andel remisser där patienten erbjöds en utprovningstid inom organisationens klocka för utprovning "
        "(15 arbetsdagar om inget annat är inställt) räknat från remissdatum; en brådskande remiss inom 5 "
        "arbetsdagar. Räknas per remissmånad. Avbokade tider räknas inte; en remiss som avbokats och bokats om "
        "räknas en gång, med sin bokning.",
        "share", Decimal("0.80"), dimensions=("kommun", "omrade", "personal", "vardenhet", "alder", "kon"),
        patient_linked=True, prescriber=True),
    Indicator(
        "reparation", "Reparation klar inom 5 arbetsdagar",
        "Andel reparationer (AU på HMC, AU hos brukare, snabbservice och akut AU) som blev klara inom 5 "
        "arbetsdagar från att de togs emot, räknat i organisationens arbetsdagar (helgdagar, midsommarafton, "
        "julafton och nyårsafton räknas inte). Räknas per månad då ordern blev klar. Makulerade ordrar räknas inte.",
        "share", Decimal("0.88"), dimensions=ORDER_DIMENSIONS + ("vardenhet",), patient_linked=True,
        prescriber=True),
    Indicator(
        "au_start", "AU påbörjad i tid",
        "Andel arbetsordrar AU på HMC och AU hos brukare som påbörjades senast på sitt startdatum (3 "
        "arbetsdagar efter mottagandet, eller organisationens egen klocka när ordern togs emot). Räknas per "
        "månad då ordern påbörjades. Makulerade ordrar räknas inte.",
        "share", Decimal("0.88"), dimensions=ORDER_DIMENSIONS, patient_linked=True),
    Indicator(
        "au_klar", "AU klar i tid",
        "Andel arbetsordrar AU på HMC och AU hos brukare som blev klara senast på sitt slutdatum (10 "
        "arbetsdagar efter mottagandet, eller organisationens egen klocka när ordern togs emot). Räknas per "
        "månad då ordern blev klar. Makulerade ordrar räknas inte.",
        "share", Decimal("0.88"), dimensions=ORDER_DIMENSIONS, patient_linked=True),
    Indicator(
        "fu_i_tid", "FU utförd i tid",
        "Andel FU-ordrar (förebyggande underhåll) som blev klara senast den dag FU:n förföll. Räknas per "
        "månad då ordern blev klar. Makulerade ordrar räknas inte.",
        "share", Decimal("0.90"), dimensions=("kommun", "omrade", "personal", "alder", "kon"), patient_linked=True),
    Indicator(
        "fu_skuld", "Underhållsskuld (försenade FU vid månadens slut)",
        "Antal FU som vid varje månads slut hade förfallit utan att vara utförda eller makulerade (samma "
        "siffra som FU-listans trend). Innevarande månad: läget i dag.",
        "count", None, unit="st", higher_is_better=False),
    Indicator(
        "digital", "Felanmälningar som kommit digitalt",
        "Andel av månadens felanmälningar (reparationsordrar, ej genererade) som kom via felanmälan på webben "
        "(QR-etikett eller länk) i stället för telefon, förskrivare eller disk. Makulerade ordrar räknas inte. "
        "Nämnderna följer antalet digitala ärenden mot målet +10 % per år; sidan visar förändringen mot "
        "samma månad året innan.",
        "share", None, dimensions=("kommun", "omrade", "typ", "alder", "kon"), patient_linked=True),
    Indicator(
        "kostnad", "Kostnad per teknisk arbetsorder",
        "Registrerad tid × organisationens timpris + använda reservdelar × deras pris, delat med antalet "
        "tekniska arbetsordrar (alla typer utom utprovning) som blev klara under månaden. Makulerade ordrar "
        "räknas inte. Reservdelar utan inlagt pris räknas som 0 kr.",
        "mean", None, unit="kr", dimensions=("kommun", "omrade", "typ", "personal"), higher_is_better=False),
    Indicator(
        "korstracka", "Körsträcka per utlånat hjälpmedel",
        "Körda km under månaden (teknikernas inmatade km, annars den planerade rutten) delat med antalet "
        "hjälpmedel utlånade vid månadens slut. Hämtas från ruttplaneringen.",
        "ratio", None, unit="km", higher_is_better=False),
    Indicator(
        "arbetsordrar", "Arbetsordrar per månad",
        "Antal arbetsordrar som togs emot under månaden, alla typer. Makulerade ordrar räknas inte.",
        "count", None, unit="st", dimensions=ORDER_DIMENSIONS, patient_linked=True),
    Indicator(
        "utprovningar", "Utprovningar per månad",
        "Antal bokade utprovningar per remissmånad. Avbokade tider räknas inte.",
        "count", None, unit="st", facts="utprovning",
        dimensions=("kommun", "omrade", "personal", "vardenhet", "alder", "kon"), patient_linked=True),
    Indicator(
        "utlanade", "Utlånade hjälpmedel vid månadens slut",
        "Antal hjälpmedel utlånade till brukare vid månadens slut (innevarande månad: i dag), per brukarens "
        "hemkommun.",
        "sum", None, unit="st", dimensions=("kommun",)),
    Indicator(
        "avvikelser", "Avvikelser per månad",
        "Antal avvikelser (negativa händelser och tillbud med hjälpmedel) som registrerades under månaden, "
        "från besök, arbetsordrar och hjälpmedel, oavsett följd och klassificering.",
        "count", None, unit="st", higher_is_better=False),
]

BY_CODE = {i.code: i for i in INDICATORS}


def indicator(code: str) -> Indicator | None:
    return BY_CODE.get(code)


def age_band(age: int) -> str:
    """The band of an age in whole years (0–17, 18–64, 65–79, 80+)."""
    if age < 18:
        return "0-17"
    if age < 65:
        return "18-64"
    if age < 80:
        return "65-79"
    return "80+"


def suppressed(patients: int | None) -> bool:
    """A cell of fewer than five patients is not shown: a split must never point at a person."""
    return patients is not None and patients < SMALL_CELL


def value_of(kind: str, hits: int | None, total: int, amount: Decimal | None) -> Decimal | None:
    """The indicator's value for a cell; None when there is nothing to measure."""
    if kind == "share":
        return Decimal(hits or 0) / total if total else None
    if kind == "count":
        return Decimal(total)
    if kind == "mean":
        return (Decimal(amount) / total).quantize(Decimal("0.01")) if total and amount is not None else None
    if kind == "sum":
        return Decimal(amount) if amount is not None else Decimal(0)
    if kind == "ratio":
        return (Decimal(amount) / total).quantize(Decimal("0.001")) if total and amount is not None else None
    raise ValueError(kind)


def meets(ind: Indicator, value: Decimal | None, target: Decimal | None) -> bool | None:
    if value is None or target is None:
        return None
    return value >= target if ind.higher_is_better else value <= target
