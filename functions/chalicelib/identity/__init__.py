"""Identity: customers by phone and SMS code, staff accounts, sign-in guard."""
