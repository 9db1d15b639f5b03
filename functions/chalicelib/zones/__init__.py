"""Zones (issue 17 item 4): the add-on zone (凑单专区) whose products close a cart's gap
to the next 满减 tier or free delivery, and fixed-price zones (9.9元专区)."""
