"""Choosing many devices at once: the row source other domains place in their queries to read the
devices the register's filter finds (the reports' exports), with every column of `device_row`
and the UDI."""

from __future__ import annotations

from backend.db import Sql
from backend.devices.register import HMC_OWNER, DeviceFilter
from backend.devices.service import devices_where


def devices_matching(organisation_id: int, wanted: DeviceFilter) -> Sql:
    """The organisation's devices the filter finds (status, category, article, owner, placement:
    the register list's filter; its search is not applied), as a row source `FROM (:devices) d`:
    the columns of `devices.device_row` and udi ('' where the manufacturer gives none)."""
    wanted = wanted.cleaned()
    owner = None if wanted.owner in (None, HMC_OWNER) else int(wanted.owner)
    condition = Sql(
        """
        d.organisation = :org
        AND (:status::text IS NULL OR d.status = :status)
        AND (:category::int IS NULL OR a.category = :category)
        AND (:article::int IS NULL OR d.article = :article)
        AND (NOT :hmc_owned OR d.owner IS NULL) AND (:owner::int IS NULL OR d.owner = :owner)
        AND (:placement::text IS NULL OR (d.holder IS NULL) = (:placement = 'forrad'))
        """,
        org=organisation_id, status=wanted.status, category=wanted.category, article=wanted.article,
        hmc_owned=wanted.owner == HMC_OWNER, owner=owner, placement=wanted.placement)
    return Sql("SELECT m.*, u.udi FROM (:rows) m JOIN device u ON u.id = m.device_id",
               rows=devices_where(condition))
