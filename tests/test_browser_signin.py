from __future__ import annotations

import pytest

from tests.conftest import sign_in
from vigie.demo.data import build_demo

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_signs_in_and_sees_the_demo_firm(live_server, page, catalogue):
    build_demo()
    sign_in(page, live_server, "demo@cabinet-demo.fr", "demo-vigie")
    assert page.get_by_test_id("firm-name").inner_text() == "Cabinet Démonstration"
    assert "4537" in page.locator("main").inner_text()


def test_a_wrong_password_stays_on_the_sign_in_page(live_server, page, alice):
    sign_in(page, live_server, "alice@alpha.fr", "not-the-password")
    assert "/compte/login/" in page.url
    assert page.get_by_test_id("firm-name").count() == 0
