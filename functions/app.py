"""Daojia API: the Chalice app. Routes live in each feature's chalicelib/<feature>/routes.py
(and *_routes.py), one blueprint per area."""

from __future__ import annotations

import logging
from typing import Any

from chalice import Chalice, Cron, Rate
from chalice.app import CloudWatchEvent, DynamoDBEvent, SQSEvent
from chalicelib import jobs
from chalicelib.audit import routes as audit
from chalicelib.auth.authorizer import authorizer_blueprint
from chalicelib.campaign_budgets import routes as campaign_budgets
from chalicelib.campaigns import routes as campaigns
from chalicelib.catalogue import routes as catalogue
from chalicelib.coupons import routes as coupons
from chalicelib.customers import routes as customers
from chalicelib.dashboard import routes as dashboard
from chalicelib.events import routes as events
from chalicelib.exports import routes as exports
from chalicelib.health import routes as health
from chalicelib.http.compression import compress_json
from chalicelib.http.routing import contract_errors
from chalicelib.identity import routes as identity
from chalicelib.kernel import config
from chalicelib.loyalty import mall_routes as mall
from chalicelib.loyalty import member_day_routes as member_day
from chalicelib.loyalty import paid_routes as paid_membership
from chalicelib.loyalty import programme_routes as loyalty_programme
from chalicelib.loyalty import routes as loyalty
from chalicelib.members import routes as members
from chalicelib.orders import returns_routes as returns
from chalicelib.orders import routes as orders
from chalicelib.orders import store_routes as store_orders
from chalicelib.printing import relay_routes as relays
from chalicelib.printing import routes as print_jobs
from chalicelib.promotions import routes as promotions
from chalicelib.reports import routes as reports
from chalicelib.search import routes as search
from chalicelib.store_tiers import routes as store_tiers
from chalicelib.stored_value import routes as stored_value
from chalicelib.stores import routes as stores

app = Chalice(app_name="daojia")
app.log.setLevel(logging.INFO)
app.api.binary_types = []  # CSV and JSON uploads arrive as text

# The first registered runs outermost: compression sees the final body.
app.register_middleware(compress_json, "http")  # gzip for clients that accept it
app.register_middleware(contract_errors, "http")  # Chalice's own errors in our shape
app.register_blueprint(authorizer_blueprint)
AREAS = (
    health,
    identity,
    members,
    stores,
    catalogue,
    orders,
    store_orders,
    returns,
    print_jobs,
    relays,
    dashboard,
    reports,
    coupons,
    promotions,
    events,
    audit,
    exports,
    search,
    stored_value,
    loyalty,
    loyalty_programme,
    paid_membership,
    mall,
    customers,
    member_day,
    campaigns,
    store_tiers,
    campaign_budgets,
)
for module in AREAS:
    app.register_blueprint(module.area.blueprint)

# Issue 16: the campaign review (复盘), its own blueprint (campaigns/review_routes.py).
from chalicelib.campaigns import review_routes as campaign_review  # noqa: E402

app.register_blueprint(campaign_review.area.blueprint)


@app.on_sqs_message(queue=config.queue_name("imports"), batch_size=1)
def import_worker(event: SQSEvent) -> None:
    """Applies uploaded ERP files (the local stack drives the same function)."""
    from chalicelib.catalogue.import_jobs import handle_message

    for record in event:
        handle_message(record.body)


@app.on_sqs_message(queue=config.queue_name("exports"), batch_size=1)
def export_worker(event: SQSEvent) -> None:
    """Writes CSV exports to S3 (the local stack drives the same function)."""
    from chalicelib.exports.jobs import handle_message

    for record in event:
        handle_message(record.body)


# The machine endpoints (the payment provider's webhook, the store print relays) behind a
# Lambda function URL, without API Gateway's per-request charge (decisions.md 33); the
# same routes stay on the API too. infra/template.py gives this function its URL.
@app.lambda_function(name="machine_api")
def machine_api(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from chalicelib.http.function_url import handle

    return handle(app, event, context)


# chalice needs a stream ARN when it packages the app; the real one has a creation time in
# it, so this names the table only and infra/template.py re-points the event source at the
# print_jobs table's StreamArn. The local worker polls the same stream (infra/local/worker.py).
PRINT_JOBS_STREAM = f"arn:aws:dynamodb:*:*:table/{config.table_name('print_jobs')}/stream/*"


@app.on_dynamodb_record(
    stream_arn=PRINT_JOBS_STREAM, batch_size=25, starting_position="TRIM_HORIZON"
)
def print_dispatch(event: DynamoDBEvent) -> None:
    """New print jobs go to their store's queue (the watchdog re-sends what fails here)."""
    from chalicelib.printing.dispatch import handle_stream_records

    handle_stream_records(event.to_dict()["Records"])


# Domain events (chalicelib/events/, docs/events.md) come from the orders, refunds and
# customers tables' own streams: one function per stream (chalice takes one ARN each), all
# the same dispatcher. infra/template.py points each at its table's StreamArn and adds the
# Lambda event filters (events/records.py STREAM_FILTERS) so that only records that are
# events invoke them; the local worker polls the same streams.
def _events_stream(table: str) -> str:
    return f"arn:aws:dynamodb:*:*:table/{config.table_name(table)}/stream/*"


@app.on_dynamodb_record(
    stream_arn=_events_stream("orders"), batch_size=100, starting_position="TRIM_HORIZON"
)
def order_events(event: DynamoDBEvent) -> None:
    """order.paid, order.completed, order.cancelled, order.expired to their subscribers."""
    from chalicelib.events.dispatch import handle_stream_records

    handle_stream_records("orders", event.to_dict()["Records"])


@app.on_dynamodb_record(
    stream_arn=_events_stream("refunds"), batch_size=100, starting_position="TRIM_HORIZON"
)
def refund_events(event: DynamoDBEvent) -> None:
    """refund.succeeded to its subscribers."""
    from chalicelib.events.dispatch import handle_stream_records

    handle_stream_records("refunds", event.to_dict()["Records"])


@app.on_dynamodb_record(
    stream_arn=_events_stream("customers"), batch_size=100, starting_position="TRIM_HORIZON"
)
def member_events(event: DynamoDBEvent) -> None:
    """member.registered to its subscribers."""
    from chalicelib.events.dispatch import handle_stream_records

    handle_stream_records("customers", event.to_dict()["Records"])


@app.on_dynamodb_record(
    stream_arn=_events_stream("campaigns"), batch_size=100, starting_position="TRIM_HORIZON"
)
def campaign_events(event: DynamoDBEvent) -> None:
    """campaign.budget_alert to its subscribers (issue 16)."""
    from chalicelib.events.dispatch import handle_stream_records

    handle_stream_records("campaigns", event.to_dict()["Records"])


# Scheduled jobs (the local stack's worker runs the same functions from jobs.SCHEDULES).
@app.schedule(Rate(1, unit=Rate.MINUTES), name="expire_unpaid")
def expire_unpaid(event: CloudWatchEvent) -> None:
    jobs.expire_unpaid()


@app.schedule(Rate(1, unit=Rate.MINUTES), name="print_watchdog")
def print_watchdog(event: CloudWatchEvent) -> None:
    jobs.print_watchdog()


@app.schedule(Rate(1, unit=Rate.HOURS), name="auto_complete")
def auto_complete(event: CloudWatchEvent) -> None:
    jobs.auto_complete()


@app.schedule(Rate(5, unit=Rate.MINUTES), name="retry_refunds")
def retry_refunds(event: CloudWatchEvent) -> None:
    jobs.retry_refunds()


@app.schedule(Rate(1, unit=Rate.DAYS), name="coupon_reminders")
def coupon_reminders(event: CloudWatchEvent) -> None:
    jobs.coupon_reminders()


@app.schedule(Rate(1, unit=Rate.MINUTES), name="retry_events")
def retry_events(event: CloudWatchEvent) -> None:
    jobs.retry_events()


@app.schedule(Rate(10, unit=Rate.MINUTES), name="report_rollups")
def report_rollups(event: CloudWatchEvent) -> None:
    jobs.report_rollups()


@app.schedule(Rate(1, unit=Rate.DAYS), name="report_settle")
def report_settle(event: CloudWatchEvent) -> None:
    jobs.report_settle()


@app.schedule(Rate(15, unit=Rate.MINUTES), name="points_settle")
def points_settle(event: CloudWatchEvent) -> None:
    jobs.points_settle()


@app.schedule(Rate(1, unit=Rate.HOURS), name="levels_daily")
def levels_daily(event: CloudWatchEvent) -> None:
    jobs.levels_daily()


@app.schedule(Rate(1, unit=Rate.HOURS), name="paid_card_packs")
def paid_card_packs(event: CloudWatchEvent) -> None:
    jobs.paid_card_packs()


# 03:00 Asia/Shanghai = 19:00 UTC the day before (China has no daylight saving)
@app.schedule(Cron(0, 19, "*", "*", "?", "*"), name="segments_nightly")
def segments_nightly(event: CloudWatchEvent) -> None:
    jobs.segments_nightly()


@app.schedule(Rate(1, unit=Rate.HOURS), name="member_day_packs")
def member_day_packs(event: CloudWatchEvent) -> None:
    jobs.member_day_packs()


@app.schedule(Rate(1, unit=Rate.MINUTES), name="campaigns_tick")
def campaigns_tick(event: CloudWatchEvent) -> None:
    jobs.campaigns_tick()


@app.schedule(Rate(5, unit=Rate.MINUTES), name="store_uptime_sample")
def store_uptime_sample(event: CloudWatchEvent) -> None:
    jobs.store_uptime_sample()


# 02:00 Asia/Shanghai on the 1st = 18:00 UTC on the last day ("L") of the month before
@app.schedule(Cron(0, 18, "L", "*", "?", "*"), name="store_tiers_monthly")
def store_tiers_monthly(event: CloudWatchEvent) -> None:
    jobs.store_tiers_monthly()


@app.on_sqs_message(queue=config.queue_name("segments"), batch_size=1)
def segments_worker(event: SQSEvent) -> None:
    """Segment refreshes and bulk actions (customers/segments.py)."""
    from chalicelib.customers.segments import handle_message

    for record in event:
        handle_message(record.body)


# The campaign calendar (issue 16 item 1).
from chalicelib.campaigns import calendar_routes as campaign_calendar  # noqa: E402

app.register_blueprint(campaign_calendar.area.blueprint)

__all__ = ["app"]


# Storefront traffic (issue 16 item 3): the batched events endpoint and its counters.
from chalicelib.traffic import routes as traffic  # noqa: E402

app.register_blueprint(traffic.area.blueprint)


# Subscription delivery (周期购, issue 17 item 3): routes, and the daily job that makes
# each delivery's order once its cutoff has passed. Importing the routes registers the
# subscription as a payable kind with orders (orders/payables.py).
from chalicelib.subscriptions import routes as subscriptions  # noqa: E402

app.register_blueprint(subscriptions.area.blueprint)


@app.schedule(Rate(15, unit=Rate.MINUTES), name="subscription_orders")
def subscription_orders(event: CloudWatchEvent) -> None:
    jobs.subscription_orders()


# Lottery free order (issue 17 item 2): set-up, the draw once, the proof, the storefront.
from chalicelib.lottery import routes as lottery  # noqa: E402

app.register_blueprint(lottery.area.blueprint)


# Issue 17: group buy (拼团), its own blueprint; importing it fills orders' extension
# points (orders/extensions.py) for group orders.
from chalicelib.group_buys import routes as group_buys  # noqa: E402

app.register_blueprint(group_buys.area.blueprint)


@app.schedule(Rate(1, unit=Rate.MINUTES), name="group_buys_expire")
def group_buys_expire(event: CloudWatchEvent) -> None:
    jobs.group_buys_expire()


# Issue 17 item 4: zones (the add-on zone and fixed-price zones), zones/routes.py.
from chalicelib.zones import routes as zones  # noqa: E402

app.register_blueprint(zones.area.blueprint)
