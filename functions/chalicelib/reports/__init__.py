"""Reports: daily rollups per (store, business day) and the sales report over a range."""
