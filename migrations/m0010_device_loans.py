"""Loans: which patient held which device from when to when (the holder's history), so a
device can be traced to every user it has had (recalls) and a loan counted (KPIs); and the
device's UDI (the EU unique device identifier, where the manufacturer gives one)."""

from backend.db import sql_migration

ID = "2026-12-01T09:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "device loans and udi"

SQL = """
ALTER TABLE device ADD COLUMN udi varchar(120) NOT NULL DEFAULT '';

CREATE TABLE device_loan (
    id bigserial PRIMARY KEY,
    organisation integer NOT NULL REFERENCES organisation(id),
    device integer NOT NULL REFERENCES device(id),
    patient integer NOT NULL REFERENCES patient(id),
    from_date date NOT NULL,
    to_date date,
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK (to_date IS NULL OR to_date >= from_date)
);
-- A device is lent to one patient at a time; device.holder is the open loan's patient.
CREATE UNIQUE INDEX device_loan_open ON device_loan (device) WHERE to_date IS NULL;
CREATE INDEX device_loan_patient ON device_loan (patient);

-- The loans today's holders already have, from the day the device went into service.
INSERT INTO device_loan (organisation, device, patient, from_date)
SELECT organisation, id, holder, in_service_date FROM device WHERE holder IS NOT NULL;
"""


forwards = sql_migration(ID, DESCRIPTION, SQL)
