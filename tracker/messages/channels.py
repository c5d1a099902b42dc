"""How a message leaves: e-mail by SMTP, SMS by an HTTP gateway; each logs instead when the
programme has not set one up (the demo, a closed network).

An SMS gateway is one small class: `send(to, text) -> str` answering what the provider
said, or raising `Refused`. `HttpSms` speaks to most gateways (Twilio-like, Infobip-like, a
national operator's): its address, its credentials and the body it expects come from the
configuration. The log adapters write who and what kind of message, never its text.
"""

import base64
import json
import logging
import smtplib
import urllib.error
import urllib.request
from email.message import EmailMessage
from typing import Protocol

from tracker.i18n import N_
from tracker.i18n import gettext as _

log = logging.getLogger(__name__)


class Refused(Exception):
    """The server or gateway did not take the message; it is tried again later."""


class SmsProvider(Protocol):
    def send(self, to: str, text: str, key: str = "") -> str: ...


# What an attempt says when nothing was sent, only written to the log: the outbox shows
# such a message as not sent (messages.services.only_logged).
LOGGED_SMS = N_("Written to the server's log only: no SMS gateway is set up yet.")
LOGGED_EMAIL = N_("Written to the server's log only: no e-mail server is set up yet.")
LOGGED = (LOGGED_SMS, LOGGED_EMAIL)


class LogSms:
    def send(self, to: str, text: str, key: str = "") -> str:
        log.info("SMS to %s (%s characters) written to the log only", to, len(text))
        return _(LOGGED_SMS)


class HttpSms:
    """POST to `url` the JSON `body` with "{to}", "{text}" and "{sender}" filled in."""

    def __init__(self, url: str, body: str, *, user="", password="", token="", sender=""):
        self.url, self.template, self.sender = url, json.loads(body), sender
        self.headers = {"Content-Type": "application/json"}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"
        elif user:
            pair = base64.b64encode(f"{user}:{password}".encode()).decode()
            self.headers["Authorization"] = f"Basic {pair}"

    def _fill(self, value, to: str, text: str):
        if isinstance(value, str):
            return (
                value.replace("{to}", to).replace("{text}", text).replace("{sender}", self.sender)
            )
        if isinstance(value, dict):
            return {key: self._fill(item, to, text) for key, item in value.items()}
        if isinstance(value, list):
            return [self._fill(item, to, text) for item in value]
        return value

    def send(self, to: str, text: str, key: str = "") -> str:
        """POST the message; `key` (the same for every attempt at one message) goes as the
        `Idempotency-Key` header, so a gateway that honours it sends a message once even
        when a worker died after the gateway took it and before it was recorded."""
        data = json.dumps(self._fill(self.template, to, text)).encode()
        headers = {**self.headers, **({"Idempotency-Key": key} if key else {})}
        request = urllib.request.Request(self.url, data=data, headers=headers)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=20) as answer:  # noqa: S310
                return f"HTTP {answer.status} {answer.read(200).decode(errors='replace')}"
        except urllib.error.HTTPError as error:
            raise Refused(
                f"HTTP {error.code} {error.read(200).decode(errors='replace')}"
            ) from error
        except (urllib.error.URLError, OSError) as error:
            raise Refused(str(error)) from error


def sms_provider(config) -> SmsProvider:
    if not config.get("SMS_URL"):
        return LogSms()
    return HttpSms(
        config["SMS_URL"],
        config["SMS_BODY"],
        user=config.get("SMS_USER", ""),
        password=config.get("SMS_PASSWORD", ""),
        token=config.get("SMS_TOKEN", ""),
        sender=config.get("SMS_SENDER", ""),
    )


def send_email(
    config, to: str, subject: str, body: str, attachments=(), message_id: str = ""
) -> str:
    """Through the SMTP server set (TRACKER_SMTP_*), or to the log when none is. The same
    `message_id` on every attempt at one message: a second copy is recognisable as one."""
    host = config.get("SMTP_HOST")
    if not host:
        log.info("e-mail to %s (%r) written to the log only", to, subject)
        return _(LOGGED_EMAIL)
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = config["MAIL_FROM"], to, subject
    if message_id:
        domain = config["MAIL_FROM"].rpartition("@")[2] or "localhost"
        message["Message-ID"] = f"<{message_id}@{domain}>"
    message.set_content(body)
    for name, mimetype, content in attachments:
        main, _slash, sub = mimetype.partition("/")
        message.add_attachment(content, maintype=main, subtype=sub, filename=name)
    try:
        with smtplib.SMTP(host, int(config.get("SMTP_PORT", 25)), timeout=30) as smtp:
            if config.get("SMTP_STARTTLS"):
                smtp.starttls()
            if config.get("SMTP_USER"):
                smtp.login(config["SMTP_USER"], config.get("SMTP_PASSWORD", ""))
            refused = smtp.send_message(message)
    except (smtplib.SMTPException, OSError) as error:
        raise Refused(str(error)) from error
    if refused:
        raise Refused(f"refused: {refused}")
    return f"accepted by {host}"
