"""``python -m bench_analytics``."""

import sys

from bench_analytics.cli import main

sys.exit(main())
