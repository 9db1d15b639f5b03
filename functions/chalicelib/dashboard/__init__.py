"""Dashboard: head office's and the stores' figures."""
