"""The database models, one module per part of the domain."""

from .attendance import Attendance, ScanEvent, ScanResult, Source
from .audit import AuditEvent
from .certificate import Certificate
from .invitation import Invitation, InvitationKind, InvitationList, InvitationStatus
from .jobs import Job, JobStatus, MailStatus, OutboxMail
from .meeting import EntityType, MeetingSeries, MeetingSession, Region, RegistrationPolicy, SessionDay
from .message import Message
from .online import IdentityMapping, OnlineInterval, ReportImport, UnmatchedPresence, ZoomEvent
from .questions import Answer, Question, QuestionKind, VisaLetter
from .registration import MODE_VALUES, Mode, Registration, RegistrationSource, RegistrationStatus, Role
from .registration_import import RegistrationImport
from .staff import ApiToken, DoorAssignment, LoginFailure, StaffRole, StaffUser
from .stored_pdf import PdfKind, StoredPdf

__all__ = [
    "MODE_VALUES",
    "EntityType",
    "MeetingSeries",
    "MeetingSession",
    "Region",
    "RegistrationPolicy",
    "SessionDay",
    "Invitation",
    "InvitationKind",
    "InvitationList",
    "InvitationStatus",
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
    "Message",
    "RegistrationImport",
    "Answer",
    "Question",
    "QuestionKind",
    "VisaLetter",
]
