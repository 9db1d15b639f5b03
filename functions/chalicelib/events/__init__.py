"""Domain events: what other features react to (an order paid, completed, cancelled or
expired, a refund that succeeded, a member registered), derived from the tables' own
DynamoDB streams and delivered at least once to idempotent subscribers (docs/events.md)."""
