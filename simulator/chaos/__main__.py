"""`python -m simulator.chaos`: the fault suite (see simulator/chaos/run.py)."""

from simulator.chaos.run import main

raise SystemExit(main())
