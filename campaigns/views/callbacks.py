"""The callback endpoint Gupshup POSTs delivery events to, one per partner app.

Authenticated by the app's secret, either in the URL or in a header that the
subscription's `meta` makes Gupshup send; compared in constant time. The body is
stored as it came and the answer is 200 at once; a task does the rest. Bodies
we cannot read are still stored and answered 200, so Gupshup does not retry
them forever.
"""

from __future__ import annotations

from csp.decorators import csp_exempt
from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_variables
from django.views.decorators.http import require_POST

from campaigns.statuses import receiving


def _answer(status: int, message: str) -> JsonResponse:
    kind = "success" if status == 200 else "error"
    return JsonResponse({"status": kind, "message": message}, status=status)


@csrf_exempt
@csp_exempt()  # type: ignore[arg-type]  # typed for (request) views only
@require_POST
@sensitive_variables("token", "secret", "presented")
def gupshup_callback(
    request: HttpRequest, app_pk: int, token: str = ""
) -> JsonResponse:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > settings.WEBHOOK_MAX_BYTES:
        return _answer(
            413, f"Callbacks are limited to {settings.WEBHOOK_MAX_BYTES} bytes."
        )
    secret = receiving.callback_secret(app_pk)
    presented = token or request.headers.get(settings.WEBHOOK_SECRET_HEADER, "")
    body, headers = request.body, request.headers
    remote_addr = request.META.get("REMOTE_ADDR")
    if not receiving.callback_secret_ok(secret, presented):
        reason = (
            "no such partner app"
            if secret is None
            else ("wrong secret" if presented else "no secret in the URL or header")
        )
        receiving.webhook_refuse(
            app_pk=app_pk,
            app_exists=secret is not None,
            reason=reason,
            body=body,
            headers=headers,
            remote_addr=remote_addr,
        )
        return _answer(403, "Forbidden: the callback secret is missing or wrong.")
    receiving.webhook_receive(
        app_id=app_pk, body=body, headers=headers, remote_addr=remote_addr
    )
    return _answer(200, "stored")
