"""A delegation list an organiser uploads to register many people at once."""

from __future__ import annotations

from ..extensions import db
from .uploads import UploadedFile


class RegistrationImport(UploadedFile, db.Model):
    """An uploaded list (CSV or XLSX): previewed first, saved in one transaction when the organiser confirms."""

    __tablename__ = "registration_imports"
