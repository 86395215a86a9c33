"""The synthetic consulting firm behind the simulated CRM, PSA and ERP.

generate(con, FirmParams(...))   # build the firm's history up to as_of
advance(con, days=1)             # move the clock; returns an AdvanceSummary
ground_truth(con)                # planted problems, open and resolved
write_ground_truth(con, path)    # the same as CSV
"""

from .advance import AdvanceSummary, advance
from .generate import FirmError, generate
from .params import SCALES, FirmParams
from .truth import ground_truth, write_ground_truth

__all__ = [
    "SCALES",
    "AdvanceSummary",
    "FirmError",
    "FirmParams",
    "advance",
    "generate",
    "ground_truth",
    "write_ground_truth",
]
