"""Members' loyalty programme (issue 14): points ledger, levels, check-in, tasks, mall."""
