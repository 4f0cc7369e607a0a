"""Route-access rows of the access-log review (/loggkontroll: admins) and the patient's log extract
(/loggutdrag: coordinators and admins). The world gets a review of the log (a sample of everyone in a
period with no reads: no items). Posts send empty forms: a review without a reason, a verdict on no
access and a close without a conclusion are refused (400); nothing is written."""

from __future__ import annotations

from datetime import date, timedelta

PAGE = dict(anonymous=303, technician=403, consultant=403, prescriber=403, coordinator=403, admin=200)
REFUSED = dict(anonymous=401, technician=403, consultant=403, prescriber=403, coordinator=403, admin=400)
EXTRACT = dict(anonymous=303, technician=403, consultant=403, prescriber=403, coordinator=200, admin=200)

REVIEW = "/loggkontroll/granskningar/{log_review}"
ROWS = {
    ("GET", "/loggkontroll"): ("/loggkontroll?fran=2026-01-01&till=2026-01-31&urval=protected", PAGE),
    ("POST", "/loggkontroll/granskningar"): ("/loggkontroll/granskningar", REFUSED),
    ("GET", "/loggkontroll/granskningar"): ("/loggkontroll/granskningar", PAGE),
    ("GET", "/loggkontroll/granskningar/{review_id:int}"): (REVIEW, PAGE),
    ("POST", "/loggkontroll/granskningar/{review_id:int}/bedom"): (REVIEW + "/bedom", REFUSED),
    ("POST", "/loggkontroll/granskningar/{review_id:int}/avsluta"): (REVIEW + "/avsluta", REFUSED),
    ("GET", "/loggkontroll/granskningar/{review_id:int}/loggkontroll.pdf"): (REVIEW + "/loggkontroll.pdf", PAGE),
    ("GET", "/loggkontroll/granskningar/{review_id:int}/loggkontroll.csv"): (REVIEW + "/loggkontroll.csv", PAGE),
    ("GET", "/loggutdrag"): ("/loggutdrag?q=Astrid+Lindqvist", EXTRACT),
    ("GET", "/loggutdrag/{patient_id:int}/loggutdrag.pdf"): ("/loggutdrag/{patient}/loggutdrag.pdf", EXTRACT),
}


async def add_paths(world) -> None:
    from backend.audit import review

    first = date(2001, 1, 1)
    world.paths["log_review"] = str(await review.create_review(
        None, world.organisation, "routine", review.Search(first, first + timedelta(days=30)),
        review.Selection(sample_percent=100), review.SAMPLE_ONLY))
