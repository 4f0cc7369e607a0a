"""API tokens: one per integration (webSesam, 1177, a BI tool), scoped, revocable, stored hashed."""

from enum import Enum

from piccolo.columns import Bytea, ForeignKey, Timestamptz, Varchar
from piccolo.table import Table

from backend.accounts.tables import StaffUser
from backend.organisations.tables import Organisation


class TokenScope(str, Enum):
    read = "read"
    write = "write"  # read and write: may also create repair orders


SCOPE_LABELS = {
    TokenScope.read: "Läsa",
    TokenScope.write: "Läsa och skriva",
}


class ApiToken(Table, tablename="api_token"):
    organisation = ForeignKey(Organisation)
    name = Varchar(length=100)  # the integration, e.g. "webSesam" or "BI"
    scope = Varchar(length=10, choices=TokenScope)
    token_hash = Bytea()  # sha256 of the token (accounts.hash_token): the token itself is never stored
    prefix = Varchar(length=20)  # the token's first characters, to recognise it
    created_by = ForeignKey(StaffUser)
    created_at = Timestamptz()
    last_used_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)
    revoked_by = ForeignKey(StaffUser, null=True)
