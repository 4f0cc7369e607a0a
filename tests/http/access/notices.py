"""Route-access rows of the notices (/fu/aviseringar, coordinators and admins), the outbox
(/admin/utkorg, admins and coordinators) and the patient's notice preference. The world gets a
generated FU visit for its patient told of by letter (a send with its letter made, so the outbox
has a message) and a notice to the cost bearer to contact. Posts send empty forms: each is refused
(400: no visit chosen, no version, no note, no letter count, nothing failed), so nothing is written."""

from __future__ import annotations

PAGE = dict(anonymous=303, technician=403, consultant=403, prescriber=403, coordinator=200, admin=200)
REFUSED = dict(anonymous=401, technician=403, consultant=403, prescriber=403, coordinator=400, admin=400)

ROWS = {
    ("GET", "/fu/aviseringar"): ("/fu/aviseringar", PAGE),
    ("POST", "/fu/aviseringar/skicka"): ("/fu/aviseringar/skicka", REFUSED),
    ("GET", "/fu/aviseringar/att-kontakta"): ("/fu/aviseringar/att-kontakta", PAGE),
    ("GET", "/fu/aviseringar/utskick/{batch_id:int}"): ("/fu/aviseringar/utskick/{notice_batch}", PAGE),
    ("GET", "/fu/aviseringar/utskick/{batch_id:int}/brev.pdf"): ("/fu/aviseringar/utskick/{notice_batch}/brev.pdf", PAGE),
    ("POST", "/fu/aviseringar/utskick/{batch_id:int}/utskrivna"): ("/fu/aviseringar/utskick/{notice_batch}/utskrivna", REFUSED),
    ("POST", "/fu/aviseringar/utskick/{batch_id:int}/skicka-igen"): ("/fu/aviseringar/utskick/{notice_batch}/skicka-igen", REFUSED),
    ("GET", "/fu/aviseringar/{notice_id:int}"): ("/fu/aviseringar/{notice}", PAGE),
    ("GET", "/fu/aviseringar/{notice_id:int}/brev.pdf"): ("/fu/aviseringar/{notice}/brev.pdf", PAGE),
    ("POST", "/fu/aviseringar/{notice_id:int}/ny-tid"): ("/fu/aviseringar/{notice}/ny-tid", REFUSED),
    ("POST", "/fu/aviseringar/{notice_id:int}/ringa-upp"): ("/fu/aviseringar/{notice}/ringa-upp", REFUSED),
    ("POST", "/fu/aviseringar/{notice_id:int}/kontaktad"): ("/fu/aviseringar/{notice_to_contact}/kontaktad", REFUSED),
    ("GET", "/admin/utkorg"): ("/admin/utkorg", PAGE),
    ("GET", "/admin/utkorg/{message_id:int}"): ("/admin/utkorg/{outbound_message}", PAGE),
    ("POST", "/patienter/{patient_id:int}/avisering"): ("/patienter/{patient}/avisering", REFUSED),
}


async def add_paths(world) -> None:
    from backend import db
    from backend.notices import service
    from tests.integration.notices.support import add_fu_visit, send_and_make

    order = await add_fu_visit(world, world.devices[0], world.patients[0], days_ahead=20)
    notice, batch, message = await send_and_make(world, [order])
    await service.tell_cost_bearer(world.organisation, order, "Gick inte att nå patienten.")
    to_contact = await db.fetchval("SELECT max(id) FROM notice WHERE work_order = $1", order)
    world.paths.update(notice=str(notice), notice_batch=str(batch), outbound_message=str(message),
                       notice_to_contact=str(to_contact))
