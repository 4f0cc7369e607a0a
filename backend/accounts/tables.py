"""Staff users, their passkeys, invitations, and the shared key-value store."""

from enum import Enum

from piccolo.columns import BigInt, Boolean, Bytea, ForeignKey, Text, Timestamptz, Varchar
from piccolo.columns.column_types import Array
from piccolo.table import Table

from backend.organisations.tables import CareUnit, CostBearer, Organisation


class Role(str, Enum):
    technician = "technician"
    consultant = "consultant"
    prescriber = "prescriber"
    coordinator = "coordinator"
    admin = "admin"


ROLE_LABELS = {
    Role.technician: "Tekniker",
    Role.consultant: "Konsulent",
    Role.prescriber: "Förskrivare",
    Role.coordinator: "Koordinator",
    Role.admin: "Administratör",
}

# Who oversees the staff's work: lists, triage, conflicts, reports, invitations.
STAFF_OVERSIGHT = (Role.coordinator, Role.admin)


class StaffUser(Table, tablename="staff_user"):
    organisation = ForeignKey(Organisation)
    name = Varchar(length=200)
    role = Varchar(length=20, choices=Role)
    care_unit = ForeignKey(CareUnit, null=True)  # prescribers only
    # Random WebAuthn user handle: never the database id or anything personal.
    user_handle = Bytea()
    active = Boolean(default=True)
    created_at = Timestamptz()
    # "Sign out everywhere": sessions signed in before this moment are no longer valid.
    sessions_valid_after = Timestamptz(null=True, default=None)
    last_signed_in_at = Timestamptz(null=True, default=None)  # the last sign-in: passkey or the region's provider
    # The Swedish health-care identity (HSA-id), unique within the organisation; None: not known.
    hsa_id = Varchar(length=40, null=True, default=None)


class Passkey(Table, tablename="passkey"):
    staff_user = ForeignKey(StaffUser)
    credential_id = Bytea(unique=True)
    public_key = Bytea()
    sign_count = BigInt()
    transports = Array(Varchar(length=20))
    aaguid = Varchar(length=36)
    backed_up = Boolean()
    nickname = Varchar(length=100)
    created_at = Timestamptz()
    last_used_at = Timestamptz(null=True, default=None)


class Invitation(Table, tablename="invitation"):
    """A one-time link to register a passkey: for a new person, or a new device (recovery)."""

    organisation = ForeignKey(Organisation)
    token_hash = Bytea(unique=True)  # sha256 of the token; the token itself is only in the link
    name = Varchar(length=200)
    role = Varchar(length=20, choices=Role)
    care_unit = ForeignKey(CareUnit, null=True)
    staff_user = ForeignKey(StaffUser, null=True)  # set for recovery / another device
    created_by = ForeignKey(StaffUser, null=True)  # None: created on the command line
    created_at = Timestamptz()
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)


class SecurityEvent(Table, tablename="security_event"):
    """Refused sign-ins worth a person's attention, e.g. a cloned authenticator."""

    organisation = ForeignKey(Organisation, null=True)
    staff_user = ForeignKey(StaffUser, null=True)
    kind = Varchar(length=40)
    detail = Text()
    at = Timestamptz()


class KeyValue(Table, tablename="kv_store"):
    """Sessions and rate-limit counters, shared by every server process."""

    namespace = Varchar(length=40)
    key = Varchar(length=200)
    value = Bytea()
    expires_at = Timestamptz(null=True, default=None)


class StaffArea(Table, tablename="staff_area"):
    """A municipality (cost bearer) a technician usually covers; composite primary key in SQL."""

    staff_user = ForeignKey(StaffUser, primary_key=True)
    cost_bearer = ForeignKey(CostBearer)


class SignInPolicy(Table, tablename="sign_in_policy"):
    """How a role of an organisation may sign in: passkey, idp (the region's identity provider)
    or both; no row is both. Composite primary key in SQL (organisation, role)."""

    organisation = ForeignKey(Organisation, primary_key=True)
    role = Varchar(length=20, choices=Role)
    methods = Varchar(length=10)


class IdpLink(Table, tablename="idp_link"):
    """A staff member's identity at the region's identity provider: (issuer, subject)."""

    staff_user = ForeignKey(StaffUser)
    issuer = Varchar(length=300)
    subject = Varchar(length=255)
    created_at = Timestamptz()
    last_signed_in_at = Timestamptz(null=True, default=None)


class IdpRoleMapping(Table, tablename="idp_role_mapping"):
    """With OIDC_AUTO_CREATE only: a commission claim value -> role and care unit on first sign-in."""

    organisation = ForeignKey(Organisation)
    claim_value = Varchar(length=200)
    role = Varchar(length=20, choices=Role)
    care_unit = ForeignKey(CareUnit, null=True)
    created_at = Timestamptz()
