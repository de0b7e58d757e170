"""Every failure code the simulator can produce is explained in plain words."""

from __future__ import annotations

from gupshup_admin.providers.failure_codes import failure_explained
from gupshup_admin.simulator import FAILURES


def test_every_code_the_simulator_sends_has_an_explanation_in_both_formats() -> None:
    for failure in FAILURES.values():
        for code in (str(failure.code), str(failure.meta_code)):
            row = failure_explained(code)
            assert row.meaning != failure_explained("no-such-code").meaning, code
            assert row.action


def test_only_transient_failures_are_worth_a_plain_retry() -> None:
    assert failure_explained("500").retry_helps
    assert failure_explained("131049").kind == "transient"
    assert not failure_explained("1002").retry_helps
    assert failure_explained("1003").kind == "human"


def test_an_unknown_code_says_to_read_the_message() -> None:
    row = failure_explained("777")
    assert row.code == "777" and "Read the provider's message" in row.action


def test_each_code_says_whether_it_is_about_the_recipient_template_or_app() -> None:
    assert failure_explained("1002").about == "recipient"
    assert failure_explained("131049").about == "recipient"
    assert failure_explained("132015").about == "template"
    assert failure_explained("1003").about == "app"
    assert failure_explained("app-billing-off").about == "app"
    assert failure_explained("app-unknown").kind == "human"
    assert failure_explained("500").about == "provider"
