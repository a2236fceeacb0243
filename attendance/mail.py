"""The one mailer: SMTP when configured, otherwise `.eml` files in the outbox folder."""
import logging
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from pathlib import Path

from email_validator import EmailNotValidError, validate_email
from flask import current_app

log = logging.getLogger(__name__)


def build_message(to: str, subject: str, body: str,
                  attachments: list[tuple[str, str, bytes]] = ()) -> EmailMessage:
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
    config = current_app.config
    if config["SMTP_HOST"]:
        with smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"], timeout=30) as smtp:
            if config["SMTP_STARTTLS"]:
                smtp.starttls(context=ssl.create_default_context())
            if config["SMTP_USERNAME"]:
                smtp.login(config["SMTP_USERNAME"], config["SMTP_PASSWORD"])
            smtp.send_message(message)
        log.info("mail sent over SMTP: %s", message["Subject"])
        return
    outbox = Path(config["OUTBOX_DIR"])
    outbox.mkdir(parents=True, exist_ok=True)
    path = outbox / (message["Message-ID"].strip("<>").replace("@", "_") + ".eml")
    path.write_bytes(bytes(message))
    log.info("mail written to the outbox (no SMTP_HOST set): %s", path.name)
