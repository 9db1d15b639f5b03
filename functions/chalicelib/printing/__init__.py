"""Printing: print jobs, dispatch to store queues, the watchdog, relays."""
