"""``python -m astrovader`` is the command line."""

import sys

from astrovader.cli import main

sys.exit(main())
