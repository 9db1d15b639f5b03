"""Global search of the back office (issue 13 item 1)."""
