"""``python -m print_relay --config relay.toml`` (same as ``daojia-relay``)."""

import sys

from print_relay.cli import main

sys.exit(main())
