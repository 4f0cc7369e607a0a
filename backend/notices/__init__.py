"""Notices: the patient told two weeks ahead of an FU visit (letter, SMS or e-mail), or the cost
bearer instead, and the record of every message sent (the dev outbox)."""
