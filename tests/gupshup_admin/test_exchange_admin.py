"""The exchange log admin: times to the second, the number a send went to, and
finding a number's exchanges by an indexed column instead of a scan."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import responses
from django.contrib.auth.models import User
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from gupshup_admin.models import ApiExchange
from gupshup_admin.providers.gupshup import GupshupAppClient
from tests.gupshup_admin.payloads import APP_URL, template_msg_ok, v3_ok

CHANGELIST = reverse("admin:gupshup_admin_apiexchange_changelist")


@pytest.fixture
def client(client: Client, alice: User) -> Client:
    client.force_login(alice)
    return client


def send_template(app_client: GupshupAppClient, destination: str) -> None:
    app_client.send_template_image(
        source="+919643874844",
        destination=destination,
        src_name="august18",
        template_id="9ff51097-48c9-47c7-a4e4-a9bb5801d8ea",
        params=["Asha"],
        image_id="820953082747249",
    )


def test_a_send_records_the_number_it_went_to(
    mocked: responses.RequestsMock, app_client: GupshupAppClient
) -> None:
    mocked.post(f"{APP_URL}/template/msg", json=template_msg_ok())
    mocked.post(
        f"{APP_URL}/v3/message",
        json=v3_ok(sent_to="5511987654321", wa_id="551187654321"),
    )

    send_template(app_client, "+918886912227")
    app_client.send_v3_image(to="+5511987654321", image_id="1479537")

    assert list(
        ApiExchange.objects.order_by("id").values_list("endpoint", "destination")
    ) == [("template_msg", "+918886912227"), ("v3_message", "+5511987654321")]


def exchange(**fields: object) -> ApiExchange:
    values: dict[str, object] = {
        "provider": "gupshup",
        "endpoint": "template_msg",
        "method": "POST",
        "url": f"{APP_URL}/template/msg",
        **fields,
    }
    return ApiExchange.objects.create(**values)


def test_the_list_and_the_page_show_times_to_the_second(client: Client) -> None:
    row = exchange(created_at=datetime(2026, 3, 4, 5, 6, 7, tzinfo=ZoneInfo("UTC")))

    page = client.get(CHANGELIST).content.decode()
    change = reverse("admin:gupshup_admin_apiexchange_change", args=[row.pk])
    detail = client.get(change).content.decode()

    assert "2026-03-04 05:06:07" in page
    assert "2026-03-04 05:06:07" in detail


def test_the_list_and_the_page_show_the_number_a_send_went_to(client: Client) -> None:
    row = exchange(destination="+918886912227")

    page = client.get(CHANGELIST).content.decode()
    change = reverse("admin:gupshup_admin_apiexchange_change", args=[row.pk])
    detail = client.get(change).content.decode()

    assert '<td class="field-destination">+918886912227</td>' in page
    assert "+918886912227" in detail


@pytest.mark.parametrize(
    "typed", ["+918886912227", "+91 88869 12227", "918886912227", "88869 12227"]
)
def test_searching_a_number_finds_its_exchanges_by_the_indexed_column(
    client: Client,
    mocked: responses.RequestsMock,
    app_client: GupshupAppClient,
    typed: str,
) -> None:
    mocked.post(f"{APP_URL}/template/msg", json=template_msg_ok())
    mocked.post(f"{APP_URL}/template/msg", json=template_msg_ok("other-id"))
    send_template(app_client, "+918886912227")
    send_template(app_client, "+918886912228")
    wanted = ApiExchange.objects.get(destination="+918886912227")

    with CaptureQueriesContext(connection) as queries:
        response = client.get(CHANGELIST, {"q": typed})

    assert [row.pk for row in response.context["cl"].result_list] == [wanted.pk]
    searched = [q["sql"] for q in queries if "gupshup_admin_apiexchange" in q["sql"]]
    assert any('"destination" =' in sql for sql in searched)
    assert not any("LIKE" in sql for sql in searched)


def test_a_search_that_is_not_a_number_still_searches_the_texts(
    client: Client,
) -> None:
    exchange(endpoint="health", method="GET", error_message="App is not live.")

    response = client.get(CHANGELIST, {"q": "not live"})

    assert len(response.context["cl"].result_list) == 1


def test_the_migration_fills_the_destination_of_sends_recorded_before_it(
    transactional_db: None,
) -> None:
    before = [("gupshup_admin", "0011_commbox_channel_health")]
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    executor.migrate(before)
    try:
        old = executor.loader.project_state(before).apps.get_model(
            "gupshup_admin", "ApiExchange"
        )
        for endpoint, body in [
            ("template_msg", {"destination": "918886912227", "source": "91964"}),
            ("v3_message", {"to": "5511987654321", "type": "image"}),
            ("health", {}),
            ("template_msg", {"source": "91964"}),  # a body without the number
        ]:
            old.objects.create(
                provider="gupshup", endpoint=endpoint, method="POST", url="x",
                request_body=body,
            )  # fmt: skip
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(latest)

    assert list(
        ApiExchange.objects.order_by("id").values_list("destination", flat=True)
    ) == [
        "+918886912227",
        "+5511987654321",
        "",
        "",
    ]
