"""The export jobs table: one record per export, its progress and its file."""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.models import Model

from chalicelib.db.models import _meta


class ExportJobModel(Model):
    """One CSV export. With an Idempotency-Key the id is derived from the caller and the
    key (a retried POST finds the job it made); the record goes after KEEP_DAYS (TTL)."""

    Meta = _meta("export_jobs")

    export_id = UnicodeAttribute(hash_key=True)
    kind = UnicodeAttribute()
    filters_json = UnicodeAttribute()  # the filters applied, a JSON object of strings
    language = UnicodeAttribute()
    request_hash = UnicodeAttribute()
    status = UnicodeAttribute()  # queued | running | succeeded | failed
    lease_until = NumberAttribute(default=0)  # epoch s; a running job's worker holds it until then
    created_by = UnicodeAttribute()
    created_role = UnicodeAttribute()
    created_store = UnicodeAttribute(null=True)  # a store account's store
    created_at = UnicodeAttribute()
    finished_at = UnicodeAttribute(null=True)
    rows_done = NumberAttribute(default=0)
    rows_estimated = NumberAttribute(default=0)
    object_key = UnicodeAttribute(null=True)  # set when the file is complete
    file_name = UnicodeAttribute(null=True)
    error = UnicodeAttribute(null=True)
    excluded_no_consent = NumberAttribute(null=True)  # segment: left out for consent
    expires_at = TTLAttribute()


EXPORT_MODELS: tuple[type[Model], ...] = (ExportJobModel,)
