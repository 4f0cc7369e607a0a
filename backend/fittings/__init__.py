"""Fittings (utprovningar): consultants' availability, bookings for patients, calendar feeds."""
