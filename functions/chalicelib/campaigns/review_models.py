"""A campaign's frozen review: computed once when the campaign ended (both baselines),
kept as gzip JSON in its own small item. Not on the campaign item: after the end, costs
accrued after the fact still update that item, and DynamoDB charges each update by the
whole item's size. Not in the S3 bucket: its lifecycle deletes every object after 30
days, and a frozen review must not change (nor be recomputed) after that."""

from __future__ import annotations

from pynamodb.attributes import BinaryAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.models import Model

from chalicelib.db.models import _meta


class CampaignReviewModel(Model):
    Meta = _meta("campaign_reviews")

    campaign_id = UnicodeAttribute(hash_key=True)
    body = BinaryAttribute(legacy_encoding=False)  # gzip of {"before": Review, "last_year": ...}
    computed_at = UnicodeAttribute()
    size = NumberAttribute()  # bytes before compression, for the logs and the bench


CAMPAIGN_REVIEW_MODELS: tuple[type[Model], ...] = (CampaignReviewModel,)
