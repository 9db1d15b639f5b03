"""Audit log (审计日志): who changed what in the back office, append-only."""
