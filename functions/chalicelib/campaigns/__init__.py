"""Campaigns (issue 16, 活动运营): the yearly S/A/B/C calendar, campaigns run by PDCA
(goal, plan, budget, execution, review), the pre-launch checklist and the review
(复盘). The campaign item and its live budget live in ``chalicelib.campaign_budgets``
(checkout needs them below it). Rules: docs/campaigns.md."""
