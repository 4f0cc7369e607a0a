"""Sign-in rules: invitations, passkey registration and authentication, sessions' validity.

No passwords anywhere. A person gets a one-time invitation, registers a passkey with
it, and signs in username-less with that passkey afterwards.

This is the accounts domain's face: other modules import from here, whatever topic module
behind it holds the rule (staff.py: the signed-in person and staff look-ups; invitations.py;
passkeys.py; register.py: the admins' staff register).
"""

from backend.accounts.invitations import (
    INVITABLE,
    INVITATION_HOURS,
    INVITATION_STATE_LABELS,
    InvitationUnusable,
    InvitationView,
    create_invitation,
    dev_sign_in,
    hash_token,
    invitable_roles,
    invitation_state,
    invite_own_device,
    list_invitations,
    open_invitation,
    revoke_invitation,
)
from backend.accounts.passkeys import (
    CHALLENGE_SECONDS,
    RP_NAME,
    Challenge,
    SignInRefused,
    authentication_options,
    complete_authentication,
    complete_registration,
    list_passkeys,
    parse_credential,
    passkeys_of,
    registration_options,
    remove_passkey,
    rename_passkey,
)
from backend.accounts.register import (
    StaffChangeRefused,
    StaffNotFound,
    list_staff,
    set_active,
    staff_person,
    update_person,
)
from backend.accounts.staff import (
    AccountError,
    Actor,
    first_active_staff_by_role,
    load_actor,
    sign_out_everywhere,
    staff,
    staff_name,
    staff_name_of,
    staff_member,
    staff_role,
    staff_row,
    staff_with_role,
    utcnow,
)

__all__ = [
    "AccountError", "Actor", "CHALLENGE_SECONDS", "Challenge", "INVITABLE", "INVITATION_HOURS",
    "INVITATION_STATE_LABELS", "InvitationUnusable", "InvitationView", "RP_NAME", "SignInRefused",
    "authentication_options", "complete_authentication", "complete_registration", "create_invitation",
    "dev_sign_in", "first_active_staff_by_role", "hash_token", "invitable_roles", "invitation_state",
    "invite_own_device", "list_invitations", "list_passkeys", "load_actor", "open_invitation",
    "parse_credential", "passkeys_of", "registration_options", "remove_passkey", "rename_passkey", "revoke_invitation",
    "sign_out_everywhere", "staff", "staff_member", "staff_name", "staff_name_of", "staff_role", "staff_row",
    "staff_with_role", "utcnow",
    # the staff register
    "StaffChangeRefused", "StaffNotFound", "list_staff", "set_active", "staff_person", "update_person",
]

