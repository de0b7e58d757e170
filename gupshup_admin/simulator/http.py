"""HTTP plumbing shared by the handlers: request class, errors, JSON answers.

Uploaded files never land in memory or on disk: `SimRequest` hands werkzeug's
multipart parser a sink that only counts and hashes the bytes streamed into it.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
from dataclasses import dataclass
from typing import IO, Any, cast

from werkzeug.datastructures import FileStorage
from werkzeug.wrappers import Request, Response

from gupshup_admin.simulator.callbacks import CallbackDispatcher
from gupshup_admin.simulator.config import SimApp, SimulatorConfig
from gupshup_admin.simulator.state import SimState

DRAIN_CHUNK = 1 << 20


class DigestSink(io.RawIOBase):
    """A write-only file that keeps the size and SHA-256 of what it was given."""

    def __init__(self) -> None:
        super().__init__()
        self.size = 0
        self._sha = hashlib.sha256()

    def writable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self.size += len(chunk)
        self._sha.update(chunk)
        return len(chunk)

    def seek(self, offset: int, whence: int = 0) -> int:
        # The parser rewinds before handing the file over; nothing to rewind.
        return 0

    def readinto(self, buffer: Any) -> int:
        return 0

    @property
    def sha256(self) -> str:
        """Hex SHA-256 of every byte written."""
        return self._sha.hexdigest()


class SimRequest(Request):
    """A werkzeug Request whose file parts stream into a DigestSink."""

    # Text fields (URLs, JSON strings) are small; keep werkzeug's guard on them.
    max_form_memory_size = 1_000_000

    def _get_file_stream(
        self,
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None = None,
        content_length: int | None = None,
    ) -> IO[bytes]:
        return cast(IO[bytes], DigestSink())


def file_info(storage: FileStorage) -> dict[str, Any]:
    """What the log keeps of an uploaded part: never its bytes."""
    sink = storage.stream
    size = sink.size if isinstance(sink, DigestSink) else None
    sha = sink.sha256 if isinstance(sink, DigestSink) else None
    return {
        "name": storage.name,
        "filename": storage.filename,
        "size": size,
        "sha256": sha,
        "content_type": storage.content_type,
    }


def drain(request: Request) -> None:
    """Read and discard an unread body, so the client sees our answer.

    Without this a client still uploading gets a connection reset instead of
    our 4xx. Reads in bounded chunks: memory stays flat for any body size.
    """
    stream = request.stream
    while stream.read(DRAIN_CHUNK):
        pass


class SimError(Exception):
    """An error answer; handlers raise it and the app turns it into a response."""

    def __init__(
        self, status: int, message: str, body: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body = body if body is not None else error_body(message)


def error_body(message: str) -> dict[str, Any]:
    """Gupshup's usual error envelope."""
    return {"status": "error", "message": message}


def json_response(body: Any, status: int = 200) -> Response:
    """A JSON answer with the given status."""
    return Response(json.dumps(body), status=status, mimetype="application/json")


@dataclass
class Ctx:
    """One request being handled, and the log entry being filled for it."""

    request: SimRequest
    state: SimState
    config: SimulatorConfig
    dispatcher: CallbackDispatcher
    entry: dict[str, Any]
    args: dict[str, str]
    # Names a deliberate misbehaviour ("hang", "drop", "error_rate", …) for the log.
    fault: str | None = None

    def app(self) -> SimApp:
        """The app of the URL, authenticated by its raw sk_ token or a Bearer
        Universal (App) Token.

        Raises SimError 400 for an unknown app and 401 for a bad token.
        """
        app = self.config.app(self.args["app_id"])
        if app is None:
            raise SimError(400, "Invalid App Details")
        check_app_token(self.request, app, self.state)
        return app


def check_app_token(request: Request, app: SimApp, state: SimState) -> None:
    """Accept `Authorization: Bearer` with an active Universal Token, or a
    Universal App Token of this app; else the raw sk_ token in `token` or
    `Authorization` (a `Bearer` sk_ token is refused).

    Raises SimError 401 "Authentication Failed".
    """
    authorization = request.headers.get("Authorization", "")
    if authorization.startswith("Bearer "):
        issued = state.universal(authorization.removeprefix("Bearer "))
        if issued is not None and issued.app_id in (None, app.app_id):
            return
        raise SimError(401, "Authentication Failed")
    values = [request.headers.get("token", ""), authorization]
    if any(v.startswith("Bearer ") for v in values):
        raise SimError(401, "Authentication Failed")
    expected = app.token.encode()
    if not any(v and hmac.compare_digest(v.encode(), expected) for v in values):
        raise SimError(401, "Authentication Failed")
