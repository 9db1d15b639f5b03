"""``python -m erp_sync`` is ``daojia-import``."""

import sys

from erp_sync.cli import main

sys.exit(main())
