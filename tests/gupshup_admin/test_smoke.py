from __future__ import annotations

from gupshup_admin.models import PartnerApp


def test_an_app_token_is_stored_encrypted_and_shown_masked(
    partner_app: PartnerApp,
) -> None:
    stored = PartnerApp.objects.get(pk=partner_app.pk)
    assert "sk_711916" not in stored.app_token_encrypted
    assert stored.app_token == "sk_711916ad1d5d4f21a9520fdef20516a1"
    assert stored.app_token_hint == "sk_…16a1"


def test_forgetting_the_token_clears_its_hint(partner_app: PartnerApp) -> None:
    partner_app.set_app_token("", source="")
    assert partner_app.app_token_hint == ""
    assert partner_app.app_token == ""
