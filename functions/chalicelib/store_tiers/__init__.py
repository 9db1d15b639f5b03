"""Store TOP tiers (issue 16 item 5): each store scored monthly on T (time online), O
(order penetration) and P (punctuality) and tiered S/A/B/C by head office's thresholds;
campaigns target stores by tier. Rules: docs/campaigns.md, "Store TOP tiers"."""
