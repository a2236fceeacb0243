"""The one mailer: SMTP when configured, otherwise `.eml` files in the outbox folder."""

import logging
import smtplib
import ssl
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from pathlib import Path

from email_validator import EmailNotValidError, validate_email
from flask import current_app

log = logging.getLogger(__name__)


def build_message(to: str, subject: str, body: str, attachments: Sequence[tuple[str, str, bytes]] = ()) -> EmailMessage:
    """`attachments`: (filename, MIME type, content)."""
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject
    # A Date and a Message-ID of the sender's own domain: mail without them looks like spam to filters.
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain=_ascii_domain(parseaddr(message["From"])[1]))
    message.set_content(body)
    for filename, mime_type, content in attachments:
        maintype, subtype = mime_type.split("/", 1)
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return message


def _ascii_domain(address: str) -> str:
    """The address's domain as a header may carry it (ASCII: münchen.de is xn--mnchen-3ya.de), by the same rule as
    email keys (email_validator)."""
    try:
        return validate_email(address, check_deliverability=False).ascii_domain
    except EmailNotValidError:
        return "localhost"


def send(message: EmailMessage) -> None:
    with connection() as mailer:
        mailer.send(message)


class Mailer:
    """Sends messages over one SMTP connection, opened at the first message (or into the outbox folder)."""

    def __init__(self) -> None:
        self._smtp: smtplib.SMTP | None = None

    def send(self, message: EmailMessage) -> None:
        config = current_app.config
        if not config["SMTP_HOST"]:
            _write_to_outbox(message)
            return
        if self._smtp is None:
            self._smtp = _open_smtp()
        try:
            self._smtp.send_message(message)
        except (smtplib.SMTPServerDisconnected, OSError):
            self.close()  # the next message opens a new connection
            raise
        log.info("mail sent over SMTP: %s", message["Subject"])

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (smtplib.SMTPException, OSError):
                self._smtp.close()
            self._smtp = None


@contextmanager
def connection() -> Iterator[Mailer]:
    """One SMTP connection for a batch of mails: `with mail.connection() as mailer: mailer.send(...)`."""
    mailer = Mailer()
    try:
        yield mailer
    finally:
        mailer.close()


def _open_smtp() -> smtplib.SMTP:
    config = current_app.config
    smtp = smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"], timeout=30)
    try:
        if config["SMTP_STARTTLS"]:
            smtp.starttls(context=ssl.create_default_context())
        if config["SMTP_USERNAME"]:
            smtp.login(config["SMTP_USERNAME"], config["SMTP_PASSWORD"])
    except BaseException:
        smtp.close()
        raise
    return smtp


def _write_to_outbox(message: EmailMessage) -> None:
    outbox = Path(current_app.config["OUTBOX_DIR"])
    outbox.mkdir(parents=True, exist_ok=True)
    path = outbox / (message["Message-ID"].strip("<>").replace("@", "_") + ".eml")
    path.write_bytes(bytes(message))
    log.info("mail written to the outbox (no SMTP_HOST set): %s", path.name)
