"""Local Microsoft Graph / Entra ID simulator for tests, benchmarks and demos (never deployed)."""

from .faults import Fault
from .server import AppCredential, GraphSimulator, RequestRecord
from .tenants import SampleTenant

__all__ = ["AppCredential", "Fault", "GraphSimulator", "RequestRecord", "SampleTenant"]
