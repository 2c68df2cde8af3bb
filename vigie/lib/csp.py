"""django-csp's middleware, with the settings' policy built once per process.

django-csp builds the Content-Security-Policy header for every response (a deep copy of
the policy's dictionaries, then the header text): ~2.5 % of a request's time under load,
for a text that only changes with the settings. A response that changes nothing of the
policy (no `@csp_update`/`@csp_replace`/`@csp` on its view, no nonce asked) gets the text
built once per process; any other goes through django-csp as before. The cache is
emptied when the settings change (`override_settings` in tests).
"""

from __future__ import annotations

from csp import middleware as csp
from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.utils import build_policy
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

# What a view's decorators set on its response to change the policy.
_RESPONSE_CHANGES = (
    "_csp_config",
    "_csp_update",
    "_csp_replace",
    "_csp_config_ro",
    "_csp_update_ro",
    "_csp_replace_ro",
)
# (header, value, setting) of the settings' own policies, once built; None: not yet.
_BUILT: list[tuple[str, str, str]] | None = None


@receiver(setting_changed)
def _forget(*, setting: str, **kwargs) -> None:
    global _BUILT
    if setting.startswith("CONTENT_SECURITY_POLICY"):
        _BUILT = None


def _settings_policies() -> list[tuple[str, str, str]]:
    global _BUILT
    if _BUILT is None:
        _BUILT = [
            (HEADER, build_policy(), "CONTENT_SECURITY_POLICY"),
            (
                HEADER_REPORT_ONLY,
                build_policy(report_only=True),
                "CONTENT_SECURITY_POLICY_REPORT_ONLY",
            ),
        ]
    return _BUILT


class CSPMiddleware(csp.CSPMiddleware):
    def process_response(self, request, response):
        if getattr(request, "_csp_nonce", None) is not None or any(
            getattr(response, name, None) is not None for name in _RESPONSE_CHANGES
        ):
            return super().process_response(request, response)
        if response.status_code in (500, 404) and settings.DEBUG:
            return response  # Django's debug pages, as django-csp leaves them
        for header, value, setting in _settings_policies():
            if not value or header in response:
                continue
            exempt = "_csp_exempt_ro" if header == HEADER_REPORT_ONLY else "_csp_exempt"
            prefixes = (getattr(settings, setting, None) or {}).get("EXCLUDE_URL_PREFIXES") or ()
            if getattr(response, exempt, False) is False and not request.path_info.startswith(
                tuple(prefixes)
            ):
                response[header] = value
        # As django-csp: a nonce asked for after the header is written is an error.
        request.csp_nonce = csp.CheckableLazyObject(self._csp_nonce_post_response)
        return response
