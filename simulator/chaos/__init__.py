"""The fault suite (`make chaos`): q2c run through faults, kills and malformed records.

- ``proxy``: a fault-injecting HTTP proxy between q2c and the simulator;
- ``records``: the malformed records it writes into answers, and their manifest;
- ``fingerprint``: a per-table content hash of a warehouse, to compare two of them;
- ``run``: the scenarios and the table they print (``python -m simulator.chaos``).

Like the harness, it imports both q2c and the simulator; neither imports it.
"""
