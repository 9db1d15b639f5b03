"""Lottery free order (免单抽奖, issue 17 item 2): a campaign draws N winners among the
paid orders of a window with a committed seed; winners are refunded their order (up to
a cap). Rules: docs/mechanics.md, "Lottery free order"."""
