"""Patients (brukare): the minimum personal data needed to serve their devices."""

from piccolo.columns import Boolean, DoublePrecision, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.table import Table

from backend.organisations.tables import CareUnit, CostBearer, Organisation


class Patient(Table, tablename="patient"):
    organisation = ForeignKey(Organisation)
    care_unit = ForeignKey(CareUnit)  # the prescribing unit responsible for the patient
    cost_bearer = ForeignKey(CostBearer)
    personal_number = Varchar(length=13)  # personnummer, YYYYMMDD-NNNN
    given_name = Varchar(length=100)
    family_name = Varchar(length=100)
    birth_year = Integer()
    sex = Varchar(length=1)  # F | M | X: for equal-access follow-up only
    street = Varchar(length=200)
    postal_code = Varchar(length=6)
    city = Varchar(length=100)
    latitude = DoublePrecision(null=True)  # None: not known (an imported patient without coordinates)
    longitude = DoublePrecision(null=True)
    phone = Varchar(length=40)
    door_code = Varchar(length=40)
    access_notes = Text()
    # skyddade personuppgifter: the address never shows in lists, routes, labels or caches.
    protected_identity = Boolean(default=False)
    # How the patient is told of a planned visit (backend/notices): letter | sms | email | none (the
    # cost bearer is contacted instead), and the e-mail address for it.
    notice_channel = Varchar(length=10, default="letter")
    email = Varchar(length=200, default="")
    created_at = Timestamptz()
