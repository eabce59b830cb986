"""The file outbox: each outgoing message becomes an .eml file under the state directory."""

from __future__ import annotations

import os
import re
from pathlib import Path

from gateway.transport import SendResult

_UNSAFE = re.compile(r"[^A-Za-z0-9._@-]+")


def file_name_for(message_id: str) -> str:
    return _UNSAFE.sub("_", message_id.strip("<>")) + ".eml"


class FileTransport:
    name = "file"

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)

    def path_for(self, message_id: str) -> Path:
        return self.directory / file_name_for(message_id)

    async def send(self, *, mail_from: str, recipients: list[str], content: bytes, message_id: str) -> SendResult:
        # Write to a temporary name and rename: a crash never leaves a half-written .eml behind.
        target = self.path_for(message_id)
        tmp = target.with_suffix(".tmp")
        envelope = f"X-Mailgate-Envelope-From: {mail_from}\r\nX-Mailgate-Envelope-To: {', '.join(recipients)}\r\n"
        with open(tmp, "wb") as fh:
            fh.write(envelope.encode("ascii", "replace") + content)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
        return SendResult(accepted=list(recipients))

    async def already_delivered(self, message_id: str) -> bool:
        return self.path_for(message_id).exists()

    async def close(self) -> None:
        return None
