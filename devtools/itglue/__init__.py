"""Local IT Glue REST API simulator for tests, benchmarks and demos (never deployed)."""

from .faults import ItGlueFault
from .server import ItGlueSimulator

__all__ = ["ItGlueFault", "ItGlueSimulator"]
