#!/usr/bin/env python3
"""An SMTP server for tests that keeps every message it receives as files.

    python3 smtp_sink.py --listen 127.0.0.1:PORT --dir DIR
        [--cert CERT.pem --key KEY.pem] [--tls-listen 127.0.0.1:PORT] [--auth USER:PASSWORD]

Each message is written to DIR as <n>.eml (the bytes received, after X-Envelope-From and
X-Envelope-To headers), then <n>.json beside it: the envelope, whether the connection was
encrypted, the authenticated user, and the decoded From, To, Subject, Date, Message-ID, text and
HTML parts. Both are written to a temporary name and renamed, so a reader never sees half a file;
the .json comes last, so once it exists the .eml is complete.

With --cert and --key the plain port offers STARTTLS, and --tls-listen adds a port speaking TLS
from the first byte. With --auth the server offers AUTH PLAIN and LOGIN (after STARTTLS on the
plain port) and accepts only that user and password; without it, AUTH is not offered.

Scripted failures, by the recipient's local part: tempfail* is answered 451 (try again later),
reject* is answered 550 (no such user).
"""

import argparse
import asyncio
import email
import email.policy
import itertools
import json
import os
import signal
import ssl

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Sink:
    """The aiosmtpd handler: refuses scripted recipients, stores every message."""

    def __init__(self, directory):
        self.directory = directory
        self.numbers = itertools.count(1)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@", 1)[0].lower()
        if local.startswith("tempfail"):
            return "451 4.3.0 Mailbox temporarily unavailable, try again later"
        if local.startswith("reject"):
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        number = next(self.numbers)
        content = envelope.original_content or envelope.content
        if isinstance(content, str):
            content = content.encode("utf-8")
        head = (
            f"X-Envelope-From: {envelope.mail_from}\r\n"
            f"X-Envelope-To: {', '.join(envelope.rcpt_tos)}\r\n"
        ).encode("utf-8")
        self._write(f"{number}.eml", head + content)

        parsed = email.message_from_bytes(content, policy=email.policy.default)
        text = parsed.get_body(preferencelist=("plain",))
        html = parsed.get_body(preferencelist=("html",))
        auth = session.auth_data
        record = {
            "eml": f"{number}.eml",
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "tls": server.transport.get_extra_info("ssl_object") is not None,
            "auth_user": auth.login.decode() if isinstance(auth, LoginPassword) else None,
            "from": str(parsed.get("From", "")),
            "to": str(parsed.get("To", "")),
            "subject": str(parsed.get("Subject", "")),
            "date": str(parsed.get("Date", "")),
            "message_id": str(parsed.get("Message-ID", "")),
            "references": str(parsed.get("References", "")),
            "text": text.get_content() if text is not None else None,
            "html": html.get_content() if html is not None else None,
        }
        self._write(f"{number}.json", json.dumps(record, indent=2).encode("utf-8"))
        return f"250 2.0.0 Message accepted as {number}"

    def _write(self, name, data):
        temporary = os.path.join(self.directory, f".{name}.tmp")
        with open(temporary, "wb") as file:
            file.write(data)
        os.replace(temporary, os.path.join(self.directory, name))


class Authenticator:
    """Accepts one user and password, by PLAIN or LOGIN."""

    def __init__(self, user, password):
        self.user = user.encode()
        self.password = password.encode()

    def __call__(self, server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == self.user
            and auth_data.password == self.password
        )
        # handled=False: aiosmtpd answers a failure with 535 itself.
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)


def address(text):
    host, _, port = text.rpartition(":")
    return host, int(port)


async def serve(arguments):
    os.makedirs(arguments.dir, exist_ok=True)
    handler = Sink(arguments.dir)
    context = None
    if arguments.cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(arguments.cert, arguments.key)
    authenticator = None
    if arguments.auth:
        user, _, password = arguments.auth.partition(":")
        authenticator = Authenticator(user, password)
    loop = asyncio.get_running_loop()

    def plain():
        return SMTP(
            handler,
            hostname="smtp-sink.test",
            tls_context=context,
            authenticator=authenticator,
            auth_require_tls=True,
        )

    def wrapped():
        # The connection is encrypted from the start: AUTH needs no STARTTLS here.
        return SMTP(
            handler,
            hostname="smtp-sink.test",
            authenticator=authenticator,
            auth_require_tls=False,
        )

    host, port = address(arguments.listen)
    servers = [await loop.create_server(plain, host, port)]
    if arguments.tls_listen:
        if context is None:
            raise SystemExit("--tls-listen needs --cert and --key")
        host, port = address(arguments.tls_listen)
        servers.append(await loop.create_server(wrapped, host, port, ssl=context))

    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    for server in servers:
        server.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--listen", required=True, help="HOST:PORT, plain with STARTTLS offered")
    parser.add_argument("--dir", required=True, help="where received messages are written")
    parser.add_argument("--cert", help="certificate chain (PEM) for STARTTLS and --tls-listen")
    parser.add_argument("--key", help="the certificate's private key (PEM)")
    parser.add_argument("--tls-listen", help="HOST:PORT speaking TLS from the first byte")
    parser.add_argument("--auth", help="USER:PASSWORD to accept with AUTH")
    arguments = parser.parse_args()
    if bool(arguments.cert) != bool(arguments.key):
        parser.error("--cert and --key go together")
    asyncio.run(serve(arguments))


if __name__ == "__main__":
    main()
