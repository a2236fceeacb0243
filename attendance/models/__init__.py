"""The database models, one module per part of the domain."""
from .meeting import EntityType, MeetingSeries, MeetingSession, Region, SessionDay
from .registration import Mode, Registration, RegistrationStatus, Role
from .staff import StaffRole, StaffUser

__all__ = [
    "EntityType", "MeetingSeries", "MeetingSession", "Region", "SessionDay",
    "Mode", "Registration", "RegistrationStatus", "Role",
    "StaffRole", "StaffUser",
]
