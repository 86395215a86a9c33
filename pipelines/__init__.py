"""q2c: the quote-to-cash reconciliation warehouse (the Dagster code location)."""

import os
from pathlib import Path

# dlt finds `.dlt/config.toml` through its project dir, whatever the working directory.
os.environ.setdefault("DLT_PROJECT_DIR", str(Path(__file__).resolve().parent.parent))
