"""The job queue's tables of Runda's own (procrastinate's tables are its own schema, m0019)."""

from piccolo.columns import BigInt, BigSerial, Integer, Text, Timestamptz, Varchar
from piccolo.table import Table


class JobFailure(Table, tablename="job_failure"):
    """One failed attempt of a job, with what the jobs page may show of why."""

    id = BigSerial(primary_key=True)
    job_id = BigInt()
    task_name = Varchar(length=128)
    attempt = Integer()
    error_type = Varchar(length=200)
    reason = Text()
    failed_at = Timestamptz()
