"""HTTP API layer of the simulator: Salesforce, Harvest and NetSuite over their wire formats."""

from simulator.api.faults import FaultConfig
from simulator.api.server import SimulatorServer

__all__ = ["FaultConfig", "SimulatorServer"]
