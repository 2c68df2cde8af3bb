"""Accessibility of the console, in Chromium: every page passes axe-core with no serious or
critical violation, and the portfolio and its dialogs work with the keyboard alone.

axe-core is vendored in tests/vendor (make vendor-axe) and injected into each page through
the DevTools protocol, so the console's Content-Security-Policy stays as it is. A run with
`-s` prints, per page, the violations by impact (the report the issue asks for).
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
    yield_hotp_counters_from_time,
)
from django.core.cache import caches
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from tests.conftest import sign_in
from tests.factories import PASSWORD, ClientFactory, ContactFactory
from vigie.accounts.models import User
from vigie.clients.models import Access, ClientAssignment, ShineStatus
from vigie.clients.portfolio.query import Params
from vigie.equipment.models import Equipment, Slot
from vigie.exports import services as exports
from vigie.integrations.services import integration_secret_create
from vigie.invitations.models import Invitation, Status
from vigie.registries.models import RegisterCheck

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VENDOR = Path(__file__).resolve().parent / "vendor"
LAUNCH_SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "launch_link_example.py"
BLOCKING = ("critical", "serious")
IMPACTS = ("critical", "serious", "moderate", "minor")
RESULTS: dict[str, list[dict]] = {}


def _axe_source() -> str:
    (path,) = VENDOR.glob("axe-core-*.min.js")
    return path.read_text(encoding="utf-8")


AXE = _axe_source()


def audit(page) -> list[dict]:
    """axe-core's violations on the page as it is now (dialogs open, menus shown)."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE)
    return page.evaluate(
        """async () => {
            const result = await axe.run(document, {resultTypes: ["violations"]});
            return result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => ({target: n.target.join(" "), summary: n.failureSummary})),
            }));
        }"""
    )


def describe(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"[{v['impact']}] {v['id']}: {v['help']} ({len(v['nodes'])} nodes)")
        for node in v["nodes"][:3]:
            summary = " ".join((node["summary"] or "").split())[:200]
            lines.append(f"    {node['target']} — {summary}")
    return "\n".join(lines)


@pytest.fixture(scope="module", autouse=True)
def report():
    """Prints the per-page table once the module's audits have run (`pytest -s`)."""
    yield
    if not RESULTS:
        return
    width = max(len(name) for name in RESULTS)
    version = re.match(r"/\*! axe v([\d.]+)", AXE).group(1)
    print(f"\n\naxe-core {version}: violations by impact, per page")
    print(f"{'page':<{width}}  " + "  ".join(f"{i:>8}" for i in IMPACTS) + "  rules")
    for name, violations in RESULTS.items():
        counts = Counter(v["impact"] for v in violations)
        rules = ", ".join(sorted({v["id"] for v in violations})) or "—"
        print(f"{name:<{width}}  " + "  ".join(f"{counts[i]:>8}" for i in IMPACTS) + f"  {rules}")


# --- The firm ---------------------------------------------------------------------------


@pytest.fixture
def firm(firm_a, alice, bob, catalogue, settings, tmp_path):
    """A small firm as the guide shows it: a client ready for Shine, one blocked, one
    activated (its hover card), enough others for a second page."""
    settings.MEDIA_ROOT = tmp_path / "media"
    # Sign-in failures of earlier tests (same IP, same minute) must not rate-limit these.
    caches["default"].clear()
    oasis = ClientFactory(
        firm=firm_a, code="000246", name="CABINET DENTAIRE DE L'OASIS", siret="84523656100013"
    )
    ContactFactory(
        client=oasis,
        first_name="Jeanne",
        last_name="Martin",
        email="jeanne@oasis.fr",
        access=Access.ADMIN,
        is_principal=True,
    )
    ContactFactory(client=oasis, first_name="Paul", last_name="Durand", email="paul@oasis.fr")
    ClientAssignment.objects.create(firm=firm_a, client=oasis, user=bob)
    ClientFactory(firm=firm_a, code="01TEST1", name="Mon client", siret="")
    active = ClientFactory(
        firm=firm_a, code="000300", name="Atelier Actif", shine_status=ShineStatus.ACTIVATED
    )
    ContactFactory(client=active, email="atelier@actif.fr", is_principal=True)
    for slot in (Slot.ACHAT, Slot.VENTE):
        Equipment.objects.create(
            firm=firm_a, client=active, solution=catalogue["shine"], slot=slot, plan="Start"
        )
    Invitation.objects.create(
        firm=firm_a,
        client=active,
        email="atelier@actif.fr",
        plan="start",
        billing_mode="cabinet",
        status=Status.ACTIVATED,
        activated_at=timezone.now(),
    )
    for _ in range(10):
        ClientFactory(firm=firm_a)
    return firm_a


def launch_url(live_server, firm, email: str) -> str:
    _secret, raw = integration_secret_create(firm=firm, actor=None, name="Loop")
    args = [sys.executable, str(LAUNCH_SCRIPT), "--secret", raw, "--firm", str(firm.public_id)]
    args += ["--email", email, "--base-url", live_server.url]
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout.strip()


# --- The pages ----------------------------------------------------------------------------
# Each visit leaves the page in the state to audit. `signed_in` False: a visitor's page.

Visit = Callable[..., None]
PAGES: dict[str, tuple[Visit, bool]] = {}


def visit(name: str, *, signed_in: bool = True):
    def register(fn: Visit) -> Visit:
        PAGES[name] = (fn, signed_in)
        return fn

    return register


def open_dialog(page, opener) -> None:
    opener.click()
    expect(page.locator("#modal")).to_be_visible()
    page.wait_for_load_state("networkidle")


@visit("sign-in", signed_in=False)
def _(page, live, firm, tmp_path):
    page.goto(live.url + "/compte/login/")


@visit("sign-in, wrong password", signed_in=False)
def _(page, live, firm, tmp_path):
    page.goto(live.url + "/compte/login/")
    page.fill("input[name=login]", "alice@alpha.fr")
    page.fill("input[name=password]", "not-the-password")
    page.click("button[type=submit]")
    expect(page.locator(".error").first).to_be_visible()


@visit("password reset", signed_in=False)
def _(page, live, firm, tmp_path):
    page.goto(live.url + "/compte/password/reset/")


@visit("password reset sent", signed_in=False)
def _(page, live, firm, tmp_path):
    page.goto(live.url + "/compte/password/reset/")
    page.fill("input[name=email]", "alice@alpha.fr")
    page.locator("main button[type=submit]").click()
    page.wait_for_url(re.compile(r"/compte/password/reset/done/"))


@visit("invitation link, invalid", signed_in=False)
def _(page, live, firm, tmp_path):
    page.goto(live.url + "/invitations/not-a-token/")


@visit("launch link, refused", signed_in=False)
def _(page, live, firm, tmp_path):
    page.goto(live.url + "/integrations/launch/?firm=x&email=y&ts=1&nonce=n&sig=s")


@visit("portfolio, Equipement")
def _(page, live, firm, tmp_path):
    page.goto(live.url + "/")


@visit("portfolio, Collecte")
def _(page, live, firm, tmp_path):
    page.goto(live.url + "/?view=collecte")


@visit("portfolio, filter menu in use")
def _(page, live, firm, tmp_path):
    page.goto(live.url + "/")
    menu = page.locator("#portfolio-filters select").first
    values = menu.locator("option").evaluate_all("options => options.map(o => o.value)")
    menu.focus()
    menu.select_option(values[1])
    page.wait_for_load_state("networkidle")
    menu.focus()


@visit("portfolio, search with no result")
def _(page, live, firm, tmp_path):
    page.goto(live.url + "/?q=zzzzzz")


@visit("portfolio, selection")
def _(page, live, firm, tmp_path):
    page.goto(live.url + "/")
    page.locator('tr[data-code="000246"] input[name=codes]').check()
    expect(page.locator("[data-selection-bar]")).to_be_visible()


@visit("portfolio, Shine card")
def _(page, live, firm, tmp_path):
    page.goto(live.url + "/")
    page.locator('tr[data-code="000300"] .shine-cell').first.focus()
    expect(page.get_by_test_id("shine-card").first).to_be_visible()


@visit("portfolio, equipment dialog")
def _(page, live, firm, tmp_path):
    page.goto(live.url + "/?per_page=25")
    cell = page.locator('tr[data-code="01TEST1"] td.col-slot').first
    cell.hover()
    open_dialog(page, cell.get_by_role("link", name="+ Ajouter"))


@visit("portfolio, bulk dialog")
def _(page, live, firm, tmp_path):
    page.goto(live.url + "/?per_page=25")
    page.locator('tr[data-code="000246"] input[name=codes]').check()
    page.locator('tr[data-code="01TEST1"] input[name=codes]').check()
    open_dialog(page, page.get_by_test_id("equip-selection"))


@visit("portfolio, bulk Shine progress")
def _(page, live, firm, tmp_path):
    page.goto(live.url + "/")
    page.locator('tr[data-code="000246"] input[name=codes]').check()
    open_dialog(page, page.get_by_test_id("equip-selection"))
    form = page.get_by_test_id("bulk-shine-form")
    form.locator("input[name=billing_mode]").first.check()
    form.locator("input[name=plan]").nth(1).check()
    form.get_by_role("button", name=re.compile("^Activer pour")).click()
    expect(page.get_by_test_id("bulk-progress")).to_be_visible()


@visit("new client")
def _(page, live, firm, tmp_path):
    page.goto(live.url + "/clients/nouveau/")


@visit("new client, errors")
def _(page, live, firm, tmp_path):
    page.goto(live.url + "/clients/nouveau/")
    page.locator("main button[type=submit]").click()
    expect(page.locator(".error").first).to_be_visible()


@visit("client page")
def _(page, live, firm, tmp_path):
    page.goto(live.url + "/clients/000246/")


@visit("client page, register findings")
def _(page, live, firm, tmp_path):
    client = firm.clients.get(code="000246")
    now = timezone.now()
    for register, status, findings in (
        ("sirene", "ecart", [{"code": "ape", "field": "ape_code", "label": "Code APE",
                              "register": "62.01Z", "firm": "00.00Z"}]),
        ("annuaire", "non_verifie", [{"code": "platform", "field": "pa_name",
                                      "label": "Plateforme agréée", "register": "Autre PA",
                                      "firm": ""}]),
    ):  # fmt: skip
        RegisterCheck.objects.create(
            firm=firm, client=client, register=register, status=status, checked_at=now,
            attempted_at=now, source="API Recherche d'entreprises", findings=findings,
            values={"directors": [{"name": "Jeanne Martin", "role": "Gérante"}]},
            reason="le registre a répondu HTTP 500" if status == "non_verifie" else "",
        )  # fmt: skip
    page.goto(live.url + "/clients/000246/")
    expect(page.locator("#registers [data-finding=ape]")).to_be_visible()


@visit("register lookup page")
def _(page, live, firm, tmp_path):
    page.goto(live.url + "/registres/siret/?siret=123")
    expect(page.locator(".error").first).to_be_visible()


@visit("client page, blocked for Shine")
def _(page, live, firm, tmp_path):
    page.goto(live.url + "/clients/01TEST1/?modifier=details")


@visit("client page, Shine dialog")
def _(page, live, firm, tmp_path):
    page.goto(live.url + "/clients/000246/")
    open_dialog(page, page.get_by_test_id("open-equipment"))
    expect(page.get_by_test_id("shine-form")).to_be_visible()


@visit("client page, Shine email")
def _(page, live, firm, tmp_path):
    page.goto(live.url + "/clients/000246/")
    open_dialog(page, page.get_by_test_id("open-equipment"))
    form = page.get_by_test_id("shine-form")
    form.locator("input[name=billing_mode]").first.check()
    form.locator("input[name=plan]").nth(1).check()
    form.get_by_role("button", name="Activer").click()
    expect(page.get_by_role("button", name="Envoyer par Vigie")).to_be_visible()


@visit("client page, contact form")
def _(page, live, firm, tmp_path):
    page.goto(live.url + "/clients/000246/")
    open_dialog(page, page.get_by_role("link", name="+ Ajouter un contact"))


@visit("client page, contact form errors")
def _(page, live, firm, tmp_path):
    page.goto(live.url + "/clients/000246/")
    open_dialog(page, page.get_by_role("link", name="+ Ajouter un contact"))
    page.locator("#modal button[type=submit]").click()
    expect(page.locator("#modal .error").first).to_be_visible()


@visit("contact form page")
def _(page, live, firm, tmp_path):
    page.goto(live.url + "/clients/000246/contacts/nouveau/")


@visit("reform dashboard")
def _(page, live, firm, tmp_path):
    page.goto(live.url + "/reforme/")


@visit("clients exposed to penalties")
def _(page, live, firm, tmp_path):
    page.goto(live.url + "/reforme/penalites/?quand=2027")


@visit("reform email template")
def _(page, live, firm, tmp_path):
    page.goto(live.url + "/reforme/modele-email/")


@visit("reform client page")
def _(page, live, firm, tmp_path):
    page.goto(live.url + "/reforme/clients/000246/")


@visit("settings, collaborators")
def _(page, live, firm, tmp_path):
    page.goto(live.url + "/parametres/collaborateurs/")


@visit("settings, invitations")
def _(page, live, firm, tmp_path):
    page.goto(live.url + "/parametres/invitations/")


@visit("settings, invitation templates")
def _(page, live, firm, tmp_path):
    page.goto(live.url + "/invitations/modeles/")


@visit("settings, test account")
def _(page, live, firm, tmp_path):
    page.goto(live.url + "/invitations/compte-test/")


@visit("integrations")
def _(page, live, firm, tmp_path):
    page.goto(live.url + "/integrations/")


@visit("launch link, confirm switch")
def _(page, live, firm, tmp_path):
    page.goto(launch_url(live, firm, "bob@alpha.fr"))
    expect(page.locator("main form")).to_be_visible()


@visit("sign-out")
def _(page, live, firm, tmp_path):
    page.goto(live.url + "/compte/logout/")


@visit("page not found")
def _(page, live, firm, tmp_path):
    response = page.goto(live.url + "/clients/INCONNU/")
    assert response.status == 404


def _export(firm, *, run: bool) -> str:
    """The path of a portfolio export asked by alice (prepared by the worker when `run`)."""
    alice = User.objects.get(email="alice@alpha.fr")
    job = exports.export_request(firm=firm, user=alice, params=Params(), fmt="csv", rows=13)
    if run:
        exports.export_run(export_id=job.pk)
    return reverse("export_detail", args=[job.public_id])


@visit("export in preparation")
def _(page, live, firm, tmp_path):
    page.goto(live.url + _export(firm, run=False))
    expect(page.get_by_role("heading", name="Export en préparation")).to_be_visible()


@visit("export ready")
def _(page, live, firm, tmp_path):
    page.goto(live.url + _export(firm, run=True))
    expect(page.get_by_role("link", name=re.compile("Télécharger"))).to_be_visible()


@visit("export expired")
def _(page, live, firm, tmp_path):
    path = _export(firm, run=True)
    exports.exports_purge(now=timezone.now() + timedelta(days=2))
    page.goto(live.url + path)
    expect(page.get_by_role("heading", name="Export expiré")).to_be_visible()


@visit("export, offered to a link followed")
def _(page, live, firm, tmp_path):
    with override_settings(EXPORT_INLINE_MAX_ROWS=1):  # the live server's thread too
        page.goto(live.url + reverse("portfolio_export", args=["csv"]) + "?vente=non")
        expect(page.get_by_role("button", name="Préparer l'export")).to_be_visible()


@visit("my exports")
def _(page, live, firm, tmp_path):
    _export(firm, run=True)
    _export(firm, run=False)  # the same request, prepared again: one of each state shown
    page.goto(live.url + reverse("export_list"))
    expect(page.get_by_role("heading", name="Mes exports")).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("Télécharger"))).to_be_visible()


@visit("imports, upload")
def _(page, live, firm, tmp_path):
    page.goto(live.url + "/imports/")


def _upload(page, base, tmp_path: Path) -> None:
    csv = tmp_path / "clients.csv"
    csv.write_text(
        "Code client;Raison sociale;SIRET\n"
        "900001;Boulangerie Neuve;84523656100013\n"
        "900002;Garage Sud;\n",
        encoding="utf-8",
    )
    page.goto(base + "/imports/")
    page.locator("input[type=file]").set_input_files(str(csv))
    page.locator("main button[type=submit]").click()
    page.wait_for_url(re.compile(r"/imports/[0-9a-f-]{36}/$"))


@visit("imports, mapping")
def _(page, live, firm, tmp_path):
    _upload(page, live.url, tmp_path)
    expect(page.locator("main select").first).to_be_visible()


@visit("imports, detail")
def _(page, live, firm, tmp_path):
    _upload(page, live.url, tmp_path)
    page.locator("main button[type=submit]").last.click()
    page.wait_for_load_state("networkidle")


@visit("imports, upload errors")
def _(page, live, firm, tmp_path):
    page.goto(live.url + "/imports/")
    page.locator("main button[type=submit]").click()
    expect(page.locator(".error").first).to_be_visible()


@visit("MFA, overview")
def _(page, live, firm, tmp_path):
    page.goto(live.url + "/compte/2fa/")


@visit("MFA, reauthenticate")
def _(page, live, firm, tmp_path):
    page.goto(live.url + "/compte/reauthenticate/")


@visit("MFA, activate TOTP")
def _(page, live, firm, tmp_path):
    page.goto(live.url + "/compte/reauthenticate/")
    page.fill("input[name=password]", PASSWORD)
    page.locator("main button[type=submit]").click()
    page.goto(live.url + "/compte/2fa/totp/activate/")
    expect(page.locator("input[name=code]")).to_be_visible()


def totp_code(secret: str) -> str:
    counter = next(yield_hotp_counters_from_time())
    return format_hotp_value(hotp_value(secret, counter))


def sign_in_with_totp(page, live, firm) -> str:
    """Turns on TOTP for alice, then signs in up to the code's page; returns the secret."""
    from vigie.accounts.models import User

    secret = generate_totp_secret()
    TOTP.activate(User.objects.get(email="alice@alpha.fr"), secret)
    page.goto(live.url + "/compte/login/")
    page.fill("input[name=login]", "alice@alpha.fr")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/compte/2fa/authenticate/"))
    return secret


@visit("MFA, sign-in code", signed_in=False)
def _(page, live, firm, tmp_path):
    sign_in_with_totp(page, live, firm)


@visit("MFA, sign-in code refused", signed_in=False)
def _(page, live, firm, tmp_path):
    sign_in_with_totp(page, live, firm)
    page.fill("input[name=code]", "000000")
    page.locator("main button[type=submit]").first.click()
    expect(page.locator("main input[name=code]")).to_be_visible()


@visit("MFA, recovery codes", signed_in=False)
def _(page, live, firm, tmp_path):
    secret = sign_in_with_totp(page, live, firm)
    page.fill("input[name=code]", totp_code(secret))
    page.locator("main button[type=submit]").first.click()
    page.wait_for_url(live.url + "/")
    page.goto(live.url + "/compte/2fa/recovery-codes/generate/")
    if page.locator("main input[name=password]").count():  # a fresh sign-in is asked for
        page.fill("main input[name=password]", PASSWORD)
        page.locator("main button[type=submit]").first.click()
        page.wait_for_url(re.compile(r"/compte/2fa/recovery-codes/generate/"))
    expect(page.locator("main h1")).not_to_have_text("Confirmer l'accès")


# A page whose audit is known to fail, with the reason, until its fix lands (strict: once
# fixed the xfail fails, and the entry must go). None today.
PENDING: dict[str, str] = {}


def _pages():
    for name in PAGES:
        marks = [pytest.mark.xfail(strict=True, reason=PENDING[name])] if name in PENDING else []
        yield pytest.param(name, marks=marks, id=name)


@pytest.mark.parametrize("name", list(_pages()))
def test_every_page_has_no_serious_or_critical_violation(name, page, live_server, firm, tmp_path):
    fn, signed_in = PAGES[name]
    if signed_in:
        sign_in(page, live_server, "alice@alpha.fr", PASSWORD)
        assert "/compte/login" not in page.url
    fn(page, live_server, firm, tmp_path)
    violations = audit(page)
    RESULTS[name] = violations
    blocking = [v for v in violations if v["impact"] in BLOCKING]
    assert not blocking, f"{name} ({page.url}):\n{describe(blocking)}"


# --- The keyboard alone ------------------------------------------------------------------

FOCUSED = """() => {
    const el = document.activeElement;
    const style = getComputedStyle(el);
    return {
        tag: el.tagName.toLowerCase(), id: el.id, name: el.getAttribute("name") || "",
        rel: el.getAttribute("rel") || "", testid: el.dataset.testid || "",
        label: el.getAttribute("aria-label") || el.textContent.trim().slice(0, 40),
        inModal: !!el.closest("#modal"),
        outline: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0,
        ring: style.boxShadow !== "none",
    };
}"""


def tab(page, times: int = 1) -> dict:
    for _ in range(times):
        page.keyboard.press("Tab")
    return page.evaluate(FOCUSED)


def visible_focus(focused: dict) -> bool:
    return focused["outline"] or focused["ring"]


def test_tab_reaches_the_search_filters_row_checkboxes_and_pager(page, live_server, firm):
    sign_in(page, live_server, "alice@alpha.fr", PASSWORD)
    filters = page.locator("#portfolio-filters select").evaluate_all(
        "menus => menus.map(m => m.name)"
    )
    assert filters  # the portfolio has filter menus
    page.get_by_role("heading", name="Portefeuille clients").click()  # start in the page

    order: list[str] = []
    unseen = []
    for _ in range(120):
        focused = tab(page)
        if not visible_focus(focused):
            unseen.append(focused)
        key = {
            ("input", "q"): "search",
            ("input", "mine"): "filter:mine",
            ("input", "codes"): "row",
            ("select", "per_page"): "per-page",
            ("input", "page"): "page-number",
        }.get((focused["tag"], focused["name"]))
        if focused["tag"] == "select" and focused["name"] in filters:
            key = f"filter:{focused['name']}"
        if focused["rel"] == "next":
            key = "next-page"
        if key is None:
            continue
        order.append(key)
        if key == "page-number":
            break

    rows = [i for i, key in enumerate(order) if key == "row"]
    assert order[0] == "search", order
    assert [k for k in order if k.startswith("filter:")] == ["filter:mine"] + [
        f"filter:{name}" for name in filters
    ]
    assert len(rows) == 10  # every row of the page
    assert order.index(f"filter:{filters[-1]}") < rows[0]
    assert rows[-1] < order.index("per-page") < order.index("next-page")
    assert not unseen, f"focused without a visible outline: {unseen}"

    # The pager works from the keyboard: Enter on « next » shows the second page.
    page.locator("a[rel=next]").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("page-range")).to_have_text("11-13 sur 13")


def test_space_ticks_a_row_and_the_bulk_dialog_opens_and_closes_with_the_keyboard(
    page, live_server, firm
):
    sign_in(page, live_server, "alice@alpha.fr", PASSWORD)
    page.locator('tr[data-code="000246"] input[name=codes]').focus()
    page.keyboard.press("Space")
    expect(page.locator("[data-selection-bar]")).to_be_visible()

    opener = page.get_by_test_id("equip-selection")
    opener.focus()
    assert visible_focus(page.evaluate(FOCUSED))
    page.keyboard.press("Enter")
    dialog = page.locator("#modal")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_test_id("selection-dialog")).to_be_visible()
    assert page.evaluate(FOCUSED)["inModal"]  # the focus moved into the dialog

    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    assert page.evaluate("() => document.activeElement.dataset.testid") == "equip-selection"


def test_the_contact_dialog_takes_the_focus_and_gives_it_back(page, live_server, firm):
    sign_in(page, live_server, "alice@alpha.fr", PASSWORD)
    page.goto(live_server.url + "/clients/000246/")
    opener = page.get_by_role("link", name="+ Ajouter un contact")
    opener.focus()
    page.keyboard.press("Enter")
    dialog = page.locator("#modal")
    expect(dialog).to_be_visible()
    focused = page.evaluate(FOCUSED)
    assert focused["inModal"] and focused["tag"] == "input"  # the form's first field
    assert visible_focus(focused)

    # Every control of the dialog shows its focus, and Tab stays inside the dialog.
    fields = dialog.locator("input:not([type=hidden]), select, textarea, button, a[href]")
    for _ in range(fields.count() - 1):  # the first one has the focus already
        focused = tab(page)
        assert focused["inModal"], focused
        assert visible_focus(focused), focused

    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    assert page.evaluate(FOCUSED)["label"] == "+ Ajouter un contact"


def test_saving_the_contact_dialog_gives_the_focus_back_to_its_opener(page, live_server, firm):
    sign_in(page, live_server, "alice@alpha.fr", PASSWORD)
    page.goto(live_server.url + "/clients/000246/")
    page.get_by_role("link", name="+ Ajouter un contact").focus()
    page.keyboard.press("Enter")
    dialog = page.locator("#modal")
    expect(dialog).to_be_visible()
    for name, value in [
        ("last_name", "Petit"),
        ("first_name", "Luc"),
        ("email", "luc@oasis.fr"),
        ("phone", "0707070707"),
    ]:
        dialog.locator(f"input[name={name}]").fill(value)
    dialog.locator("input[name=phone]").press("Enter")
    expect(dialog).to_be_hidden()
    expect(page.locator("#contacts")).to_contain_text("Luc Petit")
    page.wait_for_load_state("networkidle")
    expect(page.get_by_role("link", name="+ Ajouter un contact")).to_be_focused()


def test_a_dialog_is_named_by_its_heading(page, live_server, firm):
    sign_in(page, live_server, "alice@alpha.fr", PASSWORD)
    page.goto(live_server.url + "/clients/000246/")
    page.get_by_role("link", name="+ Ajouter un contact").click()
    expect(page.get_by_role("dialog", name="Ajouter un contact")).to_be_visible()
    page.keyboard.press("Escape")
    page.get_by_test_id("open-equipment").click()
    expect(page.get_by_role("dialog", name=re.compile("^CABINET DENTAIRE"))).to_be_visible()


def test_the_shine_dialog_takes_the_focus_and_gives_it_back(page, live_server, firm):
    sign_in(page, live_server, "alice@alpha.fr", PASSWORD)
    page.goto(live_server.url + "/clients/000246/")
    page.get_by_test_id("open-equipment").focus()
    page.keyboard.press("Enter")
    dialog = page.locator("#modal")
    expect(dialog.get_by_test_id("equipment-dialog")).to_be_visible()
    assert page.evaluate(FOCUSED)["inModal"]

    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    assert page.evaluate(FOCUSED)["testid"] == "open-equipment"

    # Its « Fermer » button, pressed from the keyboard, does the same.
    page.keyboard.press("Enter")
    expect(dialog.get_by_test_id("equipment-dialog")).to_be_visible()
    dialog.get_by_role("button", name="Fermer").first.focus()
    assert visible_focus(page.evaluate(FOCUSED))
    page.keyboard.press("Enter")
    expect(dialog).to_be_hidden()
    assert page.evaluate(FOCUSED)["testid"] == "open-equipment"


def test_the_first_tab_offers_to_skip_to_the_content(page, live_server, firm):
    sign_in(page, live_server, "alice@alpha.fr", PASSWORD)
    page.goto(live_server.url + "/")
    focused = tab(page)
    assert focused["label"] == "Aller au contenu", focused
    assert visible_focus(focused)
    page.keyboard.press("Enter")
    # The next Tab is in the page's content, past the top bar.
    assert page.evaluate("() => !!document.activeElement.closest('main')")
    assert tab(page)["label"] == "Exporter CSV"


def test_a_rows_add_button_is_reachable_with_the_keyboard(page, live_server, firm):
    """« + Ajouter » shows on hover; a keyboard user must reach it too, and open the
    equipment dialog from it."""
    sign_in(page, live_server, "alice@alpha.fr", PASSWORD)
    page.locator('tr[data-code="000246"] a.company-name').focus()
    focused = tab(page, 2)  # past the row's « Ouvrir »: the ACHAT cell's « + Ajouter »
    seen = [focused["label"]]
    while focused["label"] != "+ Ajouter" and len(seen) < 4:
        focused = tab(page)
        seen.append(focused["label"])
    assert focused["label"] == "+ Ajouter", seen
    assert visible_focus(focused)
    page.keyboard.press("Enter")
    expect(page.locator("#modal").get_by_test_id("equipment-dialog")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("#modal")).to_be_hidden()
    assert page.evaluate(FOCUSED)["label"] == "+ Ajouter"


def test_the_contact_form_has_a_heading_fit_for_its_place(page, live_server, firm):
    """Without JavaScript the form is a page of its own: its title is the page's h1
    (axe's page-has-heading-one); in the dialog it stays an h2 under the page's h1."""
    sign_in(page, live_server, "alice@alpha.fr", PASSWORD)
    page.goto(live_server.url + "/clients/000246/contacts/nouveau/")
    expect(page.get_by_role("heading", level=1, name="Ajouter un contact")).to_be_visible()
    assert not [v for v in audit(page) if v["id"] in ("page-has-heading-one", "heading-order")]

    page.goto(live_server.url + "/clients/000246/")
    page.get_by_role("link", name="+ Ajouter un contact").click()
    dialog = page.locator("#modal")
    expect(dialog.get_by_role("heading", level=2, name="Ajouter un contact")).to_be_visible()


# --- Errors told to a screen reader, next to their field -------------------------------


def assert_described_by_its_error(field) -> None:
    """The field is marked invalid and its accessible description is its error message."""
    expect(field).to_have_attribute("aria-invalid", "true")
    error = field.evaluate(
        """el => [...el.closest(".field").querySelectorAll(".error")]
                 .map(e => e.textContent.trim()).join(" ")"""
    )
    assert error
    expect(field).to_have_accessible_description(error)


def test_a_contact_form_error_is_the_fields_description(page, live_server, firm):
    sign_in(page, live_server, "alice@alpha.fr", PASSWORD)
    page.goto(live_server.url + "/clients/000246/")
    page.get_by_role("link", name="+ Ajouter un contact").click()
    dialog = page.locator("#modal")
    dialog.get_by_label("E-mail").fill("pas-une-adresse")
    dialog.get_by_role("button", name="Enregistrer").click()
    expect(dialog.locator(".error").first).to_be_visible()
    assert_described_by_its_error(dialog.get_by_label("E-mail"))
    assert_described_by_its_error(dialog.get_by_label("Nom", exact=False).first)


def test_a_sign_in_error_is_the_fields_description(page, live_server, firm):
    page.goto(live_server.url + "/compte/login/")
    page.fill("input[name=password]", "quelque-chose")
    page.click("button[type=submit]")
    login = page.get_by_label("E-mail")
    expect(page.locator(".field.has-error")).to_be_visible()
    assert_described_by_its_error(login)


# --- The focus stays in place when the results are refreshed -------------------------


def test_a_page_change_with_the_keyboard_keeps_the_focus_in_the_pager(page, live_server, firm):
    sign_in(page, live_server, "alice@alpha.fr", PASSWORD)
    page.locator("a[rel=next]").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("page-range")).to_have_text("11-13 sur 13")
    # The last page has no « next »: the focus is on « previous », not lost to the page.
    expect(page.locator("a[rel=prev]")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("page-range")).to_have_text("1-10 sur 13")
    expect(page.locator("a[rel=next]")).to_be_focused()


def test_a_sort_with_the_keyboard_keeps_the_focus_on_its_column(page, live_server, firm):
    sign_in(page, live_server, "alice@alpha.fr", PASSWORD)
    sort = page.locator("thead a.sort").first
    label = sort.inner_text()
    sort.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"sort=-"))
    expect(page.locator("thead a.sort").first).to_have_class(re.compile("sorted-desc"))
    expect(page.locator("thead a.sort", has_text=label).first).to_be_focused()


def test_a_bulk_declaration_with_the_keyboard_gives_the_focus_back_to_the_bar(
    page, live_server, firm
):
    sign_in(page, live_server, "alice@alpha.fr", PASSWORD)
    page.locator('tr[data-code="000246"] input[name=codes]').focus()
    page.keyboard.press("Space")
    page.get_by_test_id("equip-selection").focus()
    page.keyboard.press("Enter")
    dialog = page.locator("#modal")
    expect(dialog.get_by_test_id("selection-dialog")).to_be_visible()
    # htmx wires the new form once it has settled; a key pressed sooner posts it natively.
    page.wait_for_function("() => !document.querySelector('#modal-body .htmx-added')")
    dialog.locator("button.check-button").first.focus()
    page.keyboard.press("Enter")
    expect(dialog).to_be_hidden()
    expect(page.locator("#toasts")).to_contain_text("enregistré pour 1 client")
    # The rows are refreshed in place; the focus is back on the bar's button.
    expect(page.locator('tr[data-code="000246"] td.col-slot').first).not_to_contain_text(
        "+ Ajouter"
    )
    page.wait_for_load_state("networkidle")
    expect(page.get_by_test_id("equip-selection")).to_be_focused()


def test_a_search_tells_a_screen_reader_how_many_clients_it_found(page, live_server, firm):
    """The results change in place: a status message (WCAG 4.1.3) says the new range."""
    sign_in(page, live_server, "alice@alpha.fr", PASSWORD)
    status = page.get_by_role("status").filter(has_text=re.compile(r"sur \d+|Aucun client"))
    page.get_by_placeholder("Rechercher").fill("Entreprise")
    page.wait_for_url(re.compile(r"q=Entreprise"))
    expect(status).to_have_text("1-10 sur 10")
    page.get_by_placeholder("Rechercher").fill("zzzzzz")
    page.wait_for_url(re.compile(r"q=zzzzzz"))
    expect(status).to_have_text("Aucun client ne correspond à cette recherche.")
    expect(page.get_by_placeholder("Rechercher")).to_be_focused()  # typing goes on
