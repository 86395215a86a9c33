"""The harness: q2c run against the simulator. It imports both; neither imports it.

- ``sources``: serve a simulated firm and point q2c's sources at it;
- ``score``: the exceptions q2c found against the firm's ground truth;
- ``commands``: the ``q2c demo``, ``q2c demo-ui`` and ``q2c score`` commands, added to the
  ``q2c`` command through its ``q2c.commands`` entry points (``pyproject.toml``).
"""

from simulator.harness.sources import (
    HARVEST_ACCOUNT_ID,
    SimulatedSources,
    firm_as_of,
    simulated_sources,
    source_env,
)

__all__ = [
    "HARVEST_ACCOUNT_ID",
    "SimulatedSources",
    "firm_as_of",
    "simulated_sources",
    "source_env",
]
