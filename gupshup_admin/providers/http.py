"""The one place that touches `requests`.

Every call gets a timeout, our User-Agent, and a record: the recorder is told
before the request leaves (so a crash mid-call still leaves a row) and after the
answer, with secrets masked and the response body truncated. The masking rules
are in `masking.py`, the recorder's interface in `recording.py`.
"""

from __future__ import annotations

import enum
import hashlib
import time
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import IO, Any, Generic, TypeVar
from urllib.parse import urlencode, urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter
from requests_toolbelt import MultipartEncoder

from gupshup_admin.providers.errors import (
    BadResponseError,
    ConnectionFailedError,
    OutcomeUnknownError,
    ProviderError,
    error_for_response,
)
from gupshup_admin.providers.masking import (
    redact,
    redact_error,
    redact_json_keys,
    redact_mapping,
)
from gupshup_admin.providers.recording import (
    ExchangeContext,
    ExchangeRecorder,
    ExchangeResult,
)

P = TypeVar("P")
USER_AGENT = "gupshup-admin/0.1"


class HashingReader:
    """A file wrapper that hashes what is read, so an upload is hashed as it streams."""

    def __init__(self, fileobj: IO[bytes], size: int) -> None:
        self._file = fileobj
        self.len = size  # MultipartEncoder reads `len` to size the part
        self.bytes_read = 0
        self._sha256 = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        chunk = self._file.read(size)
        if not chunk and size != 0 and self.len > 0:
            # MultipartEncoder reads until `len` bytes came: a short file would
            # make it spin forever, so say what happened instead.
            raise OSError(
                f"the file ended after {self.bytes_read} bytes; "
                f"{self.bytes_read + self.len} were declared"
            )
        self._sha256.update(chunk)
        self.bytes_read += len(chunk)
        self.len = max(self.len - len(chunk), 0)
        return chunk

    @property
    def sha256(self) -> str:
        return self._sha256.hexdigest()


@dataclass
class Multipart:
    """A streamed multipart body: text fields plus at most one file part."""

    fields: dict[str, str]
    file_field: str | None = None
    filename: str = ""
    content_type: str = ""
    reader: HashingReader | None = None

    def encoder(self) -> MultipartEncoder:
        parts: dict[str, Any] = dict(self.fields)
        if self.file_field and self.reader is not None:
            parts[self.file_field] = (self.filename, self.reader, self.content_type)
        return MultipartEncoder(fields=parts)

    def summary(self) -> dict[str, Any]:
        summary: dict[str, Any] = dict(self.fields)
        if self.file_field and self.reader is not None:
            summary[self.file_field] = {
                "filename": self.filename,
                "content_type": self.content_type,
                "size": self.reader.bytes_read,
                "sha256": self.reader.sha256,
            }
        return summary


class AuthScheme(enum.StrEnum):
    """How a token rides on a request; `Credential.headers` is the one rule."""

    # Gupshup's legacy `sk_` app token: raw, in both `token` and `Authorization`.
    RAW = "raw"
    # Universal (App) Tokens and CommBox API keys: `Authorization: Bearer …`.
    BEARER = "bearer"


@dataclass(frozen=True)
class Credential:
    """A token and how it is sent. Its value is a secret of every request it is on."""

    token: str = field(repr=False)
    scheme: AuthScheme = AuthScheme.RAW

    def headers(self) -> dict[str, str]:
        if self.scheme is AuthScheme.BEARER:
            return {"Authorization": f"Bearer {self.token}"}
        # Docs say `Authorization:`, the curl samples say `token:`: send both, raw.
        return {"token": self.token, "Authorization": self.token}


@dataclass(frozen=True)
class HttpResponse(Generic[P]):
    """A 2xx answer: its decoded body, parsed into `value`."""

    status_code: int
    body: Any
    value: P
    exchange_id: int | None


@dataclass
class Request:
    # Only method, URL and context show in repr(): the rest may hold secrets, and
    # an error report prints the locals of every frame.
    method: str
    url: str
    context: ExchangeContext
    headers: dict[str, str] = field(default_factory=dict, repr=False)
    params: dict[str, str] | None = field(default=None, repr=False)
    form: dict[str, str] | None = field(default=None, repr=False)
    json_body: dict[str, Any] | None = field(default=None, repr=False)
    multipart: Multipart | None = field(default=None, repr=False)
    secrets: Sequence[str] = field(default=(), repr=False)
    credential: Credential | None = field(default=None, repr=False)
    # Keys of the JSON answer that hold a new secret (a minted token): masked in
    # the exchange row whatever the value looks like.
    secret_response_keys: Sequence[str] = field(default=(), repr=False)

    def __post_init__(self) -> None:
        # The credential's headers go on the wire; its token is masked everywhere.
        if self.credential is not None:
            self.headers = {**self.headers, **self.credential.headers()}
            self.secrets = (*self.secrets, self.credential.token)

    def logged(self) -> dict[str, Any]:
        """What the exchange row shows of the request, secrets masked."""
        return {
            "method": self.method,
            "url": redact(self.url, self.secrets),
            "headers": redact_mapping(self.headers, self.secrets),
            "body": self.logged_body(),
        }

    def logged_body(self) -> dict[str, Any]:
        if self.multipart is not None:
            body = self.multipart.summary()
        else:
            body = self.form or self.json_body or {}
        return redact_mapping(body, self.secrets)


def http_session(pool_size: int = 10) -> requests.Session:
    """A Session with our User-Agent, keeping up to `pool_size` connections per host
    (one per request in flight: more would open and close a connection each)."""
    session = requests.Session()
    session.headers["User-Agent"] = USER_AGENT
    adapter = HTTPAdapter(pool_maxsize=pool_size)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


class HttpClient:
    """A requests Session with timeouts, User-Agent, recording and error mapping."""

    def __init__(
        self,
        *,
        recorder: ExchangeRecorder,
        connect_timeout: float,
        read_timeout: float,
        get_retries: int = 2,
        session: requests.Session | None = None,
        before_send: Callable[[], None] | None = None,
        lean: bool = False,
    ) -> None:
        self.session = session or http_session()
        # Sent straight through the session's adapter (`_send_lean`).
        self.lean = lean
        # Called once the request is prepared, right before it goes on the
        # wire (the dispatcher waits there for the request's moment to leave).
        self.before_send = before_send
        self.recorder = recorder
        self.timeout = (connect_timeout, read_timeout)
        self.get_retries = get_retries

    def send(self, request: Request, parse: Callable[[Any], P]) -> HttpResponse[P]:
        """Make the call and parse the answer; retry only idempotent GETs that
        failed transiently. A parse failure is recorded on the exchange like any
        other error.

        Raises ProviderError subclasses (see errors.py).
        """
        attempts = 1 + (self.get_retries if request.method == "GET" else 0)
        for attempt in range(1, attempts + 1):
            try:
                return self._send_once(request, parse)
            except ProviderError as exc:
                if exc.permanent or exc.outcome_unknown or attempt == attempts:
                    raise
                time.sleep(min(0.25 * 2**attempt, 2.0))
        raise AssertionError("unreachable")

    def _send_once(
        self, request: Request, parse: Callable[[Any], P]
    ) -> HttpResponse[P]:
        exchange_id = self.recorder.start(request.context, request.logged)
        started = time.monotonic()
        status_code: int | None = None
        text = ""
        error: ProviderError | None = None
        try:
            response = self._perform(request)
            status_code, text = response.status_code, response.text
            body = self._parse(request, response)
            return HttpResponse(
                status_code=status_code,
                body=body,
                value=parse(body),
                exchange_id=exchange_id,
            )
        except ProviderError as exc:
            redact_error(exc, request.secrets)
            error = exc
            exc.exchange_id = exchange_id
            raise
        finally:
            self.recorder.finish(
                exchange_id,
                ExchangeResult(
                    status_code=status_code,
                    response_text=redact(
                        redact_json_keys(text, request.secret_response_keys),
                        request.secrets,
                    ),
                    duration_ms=int((time.monotonic() - started) * 1000),
                    error=error,
                    # A streamed file is hashed only once it has been read.
                    request_body=request.logged_body() if request.multipart else None,
                ),
            )

    def _perform(self, request: Request) -> requests.Response:
        kwargs: dict[str, Any] = {
            "headers": dict(request.headers),
            "params": request.params,
            "timeout": self.timeout,
        }
        if request.multipart is not None:
            encoder = request.multipart.encoder()
            kwargs["data"] = encoder
            kwargs["headers"]["Content-Type"] = encoder.content_type
        elif request.form is not None:
            kwargs["data"] = request.form
        elif request.json_body is not None:
            kwargs["json"] = request.json_body
        timeout = kwargs.pop("timeout")
        if self.lean and request.multipart is None:
            return self._send_lean(request, kwargs, timeout)
        try:
            # What `Session.request` does, with the work before the wire done
            # before `before_send`: a request then leaves when it is told to.
            prepared = self.session.prepare_request(
                requests.Request(request.method, request.url, **kwargs)
            )
            settings = _environment_settings(self.session, prepared.url or "")
            if self.before_send is not None:
                self.before_send()
            return self.session.send(
                prepared, timeout=timeout, allow_redirects=True, **settings
            )
        except requests.RequestException as exc:
            raise self._network_error(request, exc) from exc

    def _send_lean(
        self, request: Request, kwargs: dict[str, Any], timeout: tuple[float, float]
    ) -> requests.Response:
        """What `Session.request` does, less what a provider call never needs:
        no cookies kept or sent, no `.netrc` credentials, no redirects (an
        answer 3xx is an error like any other not-JSON answer). The dispatcher
        sends this way: a fifth less CPU a request (920 → 720 µs measured),
        through the same adapter, so its pool, retries and mocks are the same."""
        headers = {**self.session.headers, **kwargs["headers"]}
        data = kwargs.get("data")
        if isinstance(data, dict):  # a form, encoded as requests would, cheaper
            data = urlencode(data)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            prepared = requests.PreparedRequest()
            prepared.prepare(
                method=request.method,
                url=request.url,
                headers=headers,
                params=kwargs.get("params"),
                data=data,
                json=kwargs.get("json"),
            )
            settings = _environment_settings(self.session, prepared.url or "")
            adapter = self.session.get_adapter(prepared.url or "")
            if self.before_send is not None:
                self.before_send()
            return adapter.send(
                prepared,
                stream=False,
                timeout=timeout,
                verify=settings.get("verify", True),
                cert=settings.get("cert"),
                proxies=settings.get("proxies") or {},
            )
        except requests.RequestException as exc:
            raise self._network_error(request, exc) from exc

    def _network_error(
        self, request: Request, exc: requests.RequestException
    ) -> ProviderError:
        host = urlsplit(request.url).netloc
        connect, read = self.timeout
        where = f"{request.context.provider} {request.context.endpoint}"
        if isinstance(exc, requests.ConnectTimeout):
            return ConnectionFailedError(
                f"Could not connect to {host} within {connect:g} s (connect timeout) "
                f"for {where}. The request was not sent; check the network and "
                "the API base URL setting."
            )
        if isinstance(exc, requests.ReadTimeout):
            return OutcomeUnknownError(
                f"No answer from {host} within {read:g} s (read timeout) for {where}. "
                "The provider may have received the request."
            )
        if isinstance(exc, requests.ConnectionError) and not _was_sent(exc):
            return ConnectionFailedError(
                f"Could not connect to {host} for {where}: {_reason(exc)}. The "
                "request was not sent; check the network and the API base URL setting."
            )
        return OutcomeUnknownError(
            f"The connection to {host} broke during {where}: {_reason(exc)}. "
            "The provider may have received the request."
        )

    def _parse(self, request: Request, response: requests.Response) -> Any:
        ctx = request.context
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code >= 400:
            raise error_for_response(
                response.status_code, body, provider=ctx.provider, endpoint=ctx.endpoint
            )
        if body is None:
            raise BadResponseError(
                f"{ctx.provider} {ctx.endpoint} answered HTTP {response.status_code} "
                f"with a body that is not JSON ({_snippet(response.text)}).",
                status_code=response.status_code,
            )
        return body


# Per session, per scheme and host: what `Session.request` takes from the
# environment (proxies, CA bundle).
_ENVIRONMENT: weakref.WeakKeyDictionary[requests.Session, dict[str, dict[str, Any]]] = (
    weakref.WeakKeyDictionary()
)


def _environment_settings(session: requests.Session, url: str) -> dict[str, Any]:
    """What `Session.request` takes from the environment for the URL's scheme
    and host, read once per session: reading it scans the whole environment,
    a tenth of a send's CPU (bench/dispatch_rate.py)."""
    parts = urlsplit(url)
    known = _ENVIRONMENT.setdefault(session, {})
    origin = f"{parts.scheme}://{parts.netloc}"
    if origin not in known:
        known[origin] = dict(
            session.merge_environment_settings(url, {}, None, None, None)
        )
    return known[origin]


def _was_sent(exc: requests.ConnectionError) -> bool:
    """Whether the connection broke after the request had gone out."""
    cause: Any = exc.args[0] if exc.args else None
    if isinstance(cause, urllib3.exceptions.MaxRetryError):
        cause = cause.reason
    if isinstance(
        cause,
        urllib3.exceptions.NewConnectionError | urllib3.exceptions.ConnectTimeoutError,
    ):
        return False
    return isinstance(cause, urllib3.exceptions.ProtocolError | ConnectionResetError)


def _reason(exc: Exception) -> str:
    text = str(exc.args[0] if exc.args else exc)
    if "Connection refused" in text:
        return "connection refused"
    if "Name or service not known" in text or "nodename nor servname" in text:
        return "host name not found"
    return _snippet(text)


def _snippet(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    if not text:
        return "empty body"
    return repr(text[:limit] + ("…" if len(text) > limit else ""))
