"""The coordinator's overview (/oversikt): every indicator the boards follow at a glance (the KPI
module, dashboard.py), and the size of what the HMC looks after: devices by category, as the
KPI summary last counted them (facts.py)."""

from __future__ import annotations

from datetime import date

from backend.accounts.service import Actor
from backend.reports import dashboard


async def overview(actor: Actor, today: date) -> dict:
    return await dashboard.dashboard(actor, today)
