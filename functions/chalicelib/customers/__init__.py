"""Customer knowledge (issue 15): per-member aggregates kept live from order events; tags,
RFM, segments and the recall list build on them (docs/segments.md)."""
