"""Subscription delivery (周期购, issue 17 item 3): plans, paid subscriptions, a
delivery's order created once by the daily job, member actions, pro-rata refunds."""
