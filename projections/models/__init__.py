"""The read models Waymark maintains."""

from projections.models.audit import AuditTrail
from projections.models.base import EventAt, ReadModel, Row, Statement
from projections.models.care import CareDelivery
from projections.models.care_teams import CareTeams
from projections.models.trajectory import Trajectories

__all__ = [
    "MODELS",
    "AuditTrail",
    "CareDelivery",
    "CareTeams",
    "EventAt",
    "ReadModel",
    "Row",
    "Statement",
    "Trajectories",
]

MODELS: dict[str, type[ReadModel]] = {m.name: m for m in (AuditTrail, CareDelivery, Trajectories, CareTeams)}
