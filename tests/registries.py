"""The sandbox registers for tests: the console pointed at them, seeded per test."""

from __future__ import annotations

ANNUAIRE_KEY = "sandbox-annuaire-key"


def point_at_sandbox(sandbox, settings) -> Registers:
    """The console pointed at the sandbox registers: no limit, no faults, no data, and
    quick retries (tests that want the limit or the delays set them)."""
    settings.SIRENE_API_URL = sandbox.url + "/recherche-entreprises"
    settings.ANNUAIRE_API_URL = sandbox.url + "/afnor-directory"
    settings.ANNUAIRE_API_KEY = ANNUAIRE_KEY
    settings.SIRENE_RATE = settings.ANNUAIRE_RATE = 200
    settings.SIRENE_TIMEOUT = settings.ANNUAIRE_TIMEOUT = 5
    settings.REGISTRY_RETRIES = 1
    settings.REGISTRY_ATTEMPTS = 2
    settings.REGISTRY_RETRY_DELAYS = [0]
    sandbox.call("POST", "/_sandbox/registers/reset", {})
    for service in ("sirene", "annuaire"):
        sandbox.call("POST", "/_sandbox/registers/config", {"service": service, "rate": 0})
    sandbox.call("POST", "/_sandbox/registers/seed", {"entries": []})
    return Registers(sandbox)


class Registers:
    def __init__(self, sandbox):
        self.sandbox = sandbox

    def seed(self, *clients, sirene: str = "ok", annuaire: str = "same_pa", **scenarios) -> None:
        """The register's companies for these clients; `scenarios` by client code:
        {"A001": {"sirene": "ceased"}}."""
        entries = [
            {
                "siret": c.siret,
                "name": c.name,
                "legal_form": c.legal_form,
                "ape_code": c.ape_code,
                "pa_name": c.pa_name,
                "scenario": {"sirene": sirene, "annuaire": annuaire, **scenarios.get(c.code, {})},
            }
            for c in clients
        ]
        self.sandbox.call("POST", "/_sandbox/registers/seed", {"entries": entries})

    def fault(self, service: str, mode: str, count: int = 1, retry_after: int = 1) -> None:
        self.sandbox.call(
            "POST",
            "/_sandbox/registers/faults",
            {"service": service, "mode": mode, "count": count, "retry_after": retry_after},
        )

    def rate(self, service: str, rate: int) -> None:
        self.sandbox.call("POST", "/_sandbox/registers/config", {"service": service, "rate": rate})

    def state(self, service: str) -> dict:
        return self.sandbox.call("GET", "/_sandbox/registers/state")[service]
