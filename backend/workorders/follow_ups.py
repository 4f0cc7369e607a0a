"""What a visit's outcome does to orders beyond its own: a follow-up order when the technician
says the work needs following up, and an FU cancelled (makulerad) when the patient could not be
reached, so that the device is due again with the reason and the cost bearer is told instead.

Both run inside the visit's own transaction (backend/visits/recording.py), which
sync.apply_or_keep holds together with the write's receipt: a replayed write finds its receipt
and runs nothing again, so each happens exactly once.
"""

from __future__ import annotations

from backend.workorders.service import apply_change, create_work_order, record_event
from backend.workorders.tables import TYPE_LABELS, Channel, WorkOrderType

# A follow-up of an FU is a repair in the home; of anything else, more of the same kind of work.
FOLLOW_UP_TYPE_OF_FU = WorkOrderType.repair_on_site


def follow_up_type(order_type: str) -> str:
    return FOLLOW_UP_TYPE_OF_FU.value if order_type == WorkOrderType.maintenance.value else order_type


async def create_follow_up(order: dict, actor_id: int, note: str) -> dict:
    """A new order (status new, for the coordinator to plan) following up `order` (a locked order as
    lock_order gives it): the same device and patient, described by the technician's note. Returns
    its id, number and version."""
    label = TYPE_LABELS[WorkOrderType(order["type"])]
    return await create_work_order(
        organisation_id=order["organisation"], type=follow_up_type(order["type"]), device_id=order["device"],
        channel=Channel.hmc.value, actor_id=actor_id, patient_id=order["patient"],
        description=f"Uppföljning efter {label} {order['number']}: {note}", follow_up_of=order["id"],
    )


async def cancel_unreachable(order: dict, actor_id: int, reason: str, message_to_orderer: str) -> int:
    """Makulera the locked `order` because the patient could not be reached, with `reason` (what
    the due list shows next to the device). Returns the order's new version."""
    new_version = await apply_change(
        order, "status = 'cancelled', cancelled_at = now(), cancel_reason = $2, message_to_orderer = $3",
        reason, message_to_orderer)
    await record_event(order["id"], actor_id, "cancelled", f"{reason}. Kostnadsbäraren kontaktas i stället.")
    return new_version
