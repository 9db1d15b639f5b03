"""Storefront traffic (issue 16 item 3): the batched events endpoint (visit store, view
product, add to cart, start checkout) and its per store × day × campaign counters, the
进店量 and the top of the funnel of a campaign's review. Raw events are not kept: a
batch leaves only a short-lived de-duplication marker. Rules: docs/campaigns.md."""
