"""The shared kernel: money, clock, errors, config, cursors, state machines, geo, hours, privacy,
the schema base."""
