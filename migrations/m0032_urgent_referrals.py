"""Urgent referrals (issue 17): a prescriber marks a referral brådskande, and the fitting service
level then holds it to 5 working days instead of the organisation's fitting clock."""

from backend.db import sql_migration

ID = "2026-12-04T12:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "urgent referrals"

SQL = """
ALTER TABLE fitting_booking ADD COLUMN urgent boolean NOT NULL DEFAULT false;
"""


forwards = sql_migration(ID, DESCRIPTION, SQL)
