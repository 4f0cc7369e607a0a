"""The device register: a device's replaced labels (its old individnummer, still findable when
a label or sticker is replaced, the device keeping its identity and history), and the indexes
its search and filters use."""

from backend.db import sql_migration

ID = "2026-12-01T09:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "device register"

SQL = """
CREATE TABLE device_label (
    id serial PRIMARY KEY,
    organisation integer NOT NULL REFERENCES organisation(id),
    device integer NOT NULL REFERENCES device(id),
    -- A label the device had before: never given to another device of the organisation.
    individnummer varchar(20) NOT NULL,
    replaced_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (organisation, individnummer)
);
CREATE INDEX device_label_device ON device_label (device);

-- The register's search: prefixes of the individnummer, serial number and UDI, as typed or
-- scanned (the filter by article uses m0014's device_article).
CREATE INDEX device_individnummer_prefix ON device (organisation, individnummer text_pattern_ops);
CREATE INDEX device_serial_prefix ON device (organisation, upper(serial_number) text_pattern_ops)
    WHERE serial_number <> '';
CREATE INDEX device_udi_prefix ON device (organisation, upper(udi) text_pattern_ops) WHERE udi <> '';
"""


forwards = sql_migration(ID, DESCRIPTION, SQL)
