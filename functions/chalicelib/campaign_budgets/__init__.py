"""Campaign budgets (issue 16 item 2): the campaign item with its live budget, read by
checkout (a cached list of live campaigns) and decremented in the order's own
transaction, so a campaign's discounts never exceed its budget. Low in the layers
(below checkout); the campaign feature itself (CRUD, checklist, calendar, reviews) is
``chalicelib.campaigns``, above the reports. Rules: docs/campaigns.md."""
