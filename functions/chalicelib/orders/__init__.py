"""Orders: placing, the lifecycle, payments, refunds, returns, the store workflow."""
