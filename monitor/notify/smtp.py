"""Email over SMTP with smtplib, so the reply code decides: 4xx → retry, 5xx → permanent.

Settings come from the channel URL as ``monitor.notify.urls.parse_mailto`` reads it.
"""

from __future__ import annotations

import smtplib
import ssl
from email import policy
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid

from monitor.errors import NotifyError, PermanentNotifyError
from monitor.notify.render import Message
from monitor.notify.urls import SmtpSettings
from monitor.textfmt import one_line

FROM_NAME = "Signal monitor"
# headers are never folded inside the 998-character line limit: the standard library's
# folding of a long subject can leave an empty encoded word (=?utf-8?q??=) that mail
# clients show as garbage; a subject is at most 250 characters
_POLICY = policy.SMTP.clone(max_line_length=998)


class SmtpTransport:
    """One mailto:// or mailtos:// URL."""

    def __init__(self, settings: SmtpSettings, key: str, label: str, fmt: str) -> None:
        self.settings = settings
        self.key = key
        self.label = label
        self.dialect = "html" if fmt == "html" else "text"

    def build(self, message: Message) -> tuple[EmailMessage, str, list[str]]:
        s = self.settings
        em = EmailMessage(policy=_POLICY)
        em["Subject"] = message.subject
        em["From"] = formataddr((s.from_name or FROM_NAME, s.from_addr))
        em["To"] = ", ".join(s.to)
        if s.cc:
            em["Cc"] = ", ".join(sorted(s.cc))
        if s.reply_to:
            em["Reply-To"] = ", ".join(sorted(s.reply_to))
        em["Date"] = formatdate(localtime=False)
        domain = s.from_addr.rpartition("@")[2] or "signal-monitor.invalid"
        # the delivery's key: every retry of one alert carries the same id (mail systems fold them)
        em["Message-ID"] = f"<{message.key}@{domain}>" if message.key else make_msgid(domain=domain)
        em["X-Mailer"] = "signal-monitor"
        em.set_content(message.body)
        if message.html:
            em.add_alternative(message.html, subtype="html")
        recipients = list(s.to) + sorted(s.cc) + sorted(s.bcc)
        return em, s.from_addr, recipients

    def send(self, message: Message) -> None:
        s = self.settings
        if not s.to:
            raise PermanentNotifyError(f"{self.label}: no recipient")
        em, sender, recipients = self.build(message)
        context = ssl.create_default_context()
        if not s.verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        try:
            if s.mode == "ssl":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    s.host, s.port, timeout=s.timeout, context=context
                )
            else:
                smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
            with smtp:
                if s.mode == "starttls":
                    smtp.starttls(context=context)
                if s.user and s.password:
                    smtp.login(s.user, s.password)
                refused = smtp.send_message(em, from_addr=sender, to_addrs=recipients)
        except smtplib.SMTPRecipientsRefused as exc:
            raise _refused_error(self.label, exc.recipients) from None
        except smtplib.SMTPResponseException as exc:
            text = (
                exc.smtp_error.decode("utf-8", "replace")
                if isinstance(exc.smtp_error, bytes)
                else str(exc.smtp_error)
            )
            error = f"{self.label}: SMTP {exc.smtp_code} {one_line(text, 300)}"
            if 500 <= exc.smtp_code < 600:
                raise PermanentNotifyError(error) from None
            raise NotifyError(error) from None
        except smtplib.SMTPNotSupportedError as exc:
            raise PermanentNotifyError(f"{self.label}: {exc}") from None
        except (smtplib.SMTPException, OSError) as exc:
            raise NotifyError(
                f"{self.label}: cannot reach the SMTP server: {type(exc).__name__}: {exc}"
            ) from None
        if refused:
            # accepted for some recipients: a retry would send them a second copy
            raise PermanentNotifyError(
                f"{self.label}: delivered, but refused for {_refusals(refused)}"
            )


Refusals = dict[str, tuple[int, bytes]]


def _refused_error(label: str, refused: Refusals) -> NotifyError:
    codes = [code for code, _ in refused.values()]
    error = f"{label}: every recipient refused: {_refusals(refused)}"
    if codes and all(500 <= c < 600 for c in codes):
        return PermanentNotifyError(error)
    return NotifyError(error)


def _refusals(refused: Refusals) -> str:
    parts = []
    for addr, (code, msg) in refused.items():
        text = msg.decode("utf-8", "replace")
        parts.append(f"{addr} ({code} {one_line(text, 300)})")
    return ", ".join(parts)
