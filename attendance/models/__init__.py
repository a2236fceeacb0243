"""The database models, one module per part of the domain."""

from .attendance import Attendance, ScanEvent, ScanResult, Source
from .audit import AuditEvent
from .certificate import Certificate
from .jobs import Job, JobStatus, MailStatus, OutboxMail
from .meeting import EntityType, MeetingSeries, MeetingSession, Region, SessionDay
from .online import IdentityMapping, OnlineInterval, ReportImport, UnmatchedPresence, ZoomEvent
from .registration import Mode, Registration, RegistrationSource, RegistrationStatus, Role
from .registration_import import RegistrationImport
from .staff import ApiToken, DoorAssignment, LoginFailure, StaffRole, StaffUser
from .stored_pdf import PdfKind, StoredPdf

__all__ = [
    "EntityType",
    "MeetingSeries",
    "MeetingSession",
    "Region",
    "SessionDay",
    "Mode",
    "Registration",
    "RegistrationSource",
    "RegistrationStatus",
    "Role",
    "AuditEvent",
    "Certificate",
    "ApiToken",
    "DoorAssignment",
    "LoginFailure",
    "StaffRole",
    "StaffUser",
    "Attendance",
    "ScanEvent",
    "ScanResult",
    "Source",
    "IdentityMapping",
    "OnlineInterval",
    "ReportImport",
    "UnmatchedPresence",
    "ZoomEvent",
    "PdfKind",
    "StoredPdf",
    "Job",
    "JobStatus",
    "MailStatus",
    "OutboxMail",
    "RegistrationImport",
]
