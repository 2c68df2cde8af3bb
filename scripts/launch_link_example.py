#!/usr/bin/env python3
"""Print a Vigie launch link, as a production tool would build it (see docs/api.md).

    python scripts/launch_link_example.py --secret <secret> --firm <firm public id> \
        --email alice@alpha.fr [--code A001] [--base-url http://localhost:8000]

Standard library only: copy it into any tool. The link replaces the password, not the
second factor: a collaborator with TOTP is asked for the code after opening it, and a
browser signed in as someone else asks before switching (docs/api.md).
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import secrets
import time
from urllib.parse import quote


def launch_url(
    *, base_url: str, secret: str, firm: str, email: str, code: str = "", lifetime: int = 60
) -> str:
    params = {
        "email": email,
        "exp": str(int(time.time()) + lifetime),
        "firm": firm,
        "nonce": secrets.token_urlsafe(16),
    }
    if code:
        params["code"] = code
    # Canonical query: parameters sorted by name, values percent-encoded (RFC 3986).
    canonical = "&".join(f"{k}={quote(params[k], safe='')}" for k in sorted(params))
    sig = hmac.new(secret.encode(), canonical.encode(), hashlib.sha256).hexdigest()
    return f"{base_url.rstrip('/')}/integrations/launch/?{canonical}&sig={sig}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--secret", required=True, help="integration secret (Intégrations page)")
    parser.add_argument("--firm", required=True, help="firm public id (Intégrations page)")
    parser.add_argument("--email", required=True, help="the collaborator's sign-in email")
    parser.add_argument("--code", default="", help="open this client (code client)")
    parser.add_argument("--base-url", default="http://localhost:8000")
    parser.add_argument("--lifetime", type=int, default=60, help="seconds, 60 at most")
    args = parser.parse_args()
    print(
        launch_url(
            base_url=args.base_url,
            secret=args.secret,
            firm=args.firm,
            email=args.email,
            code=args.code,
            lifetime=args.lifetime,
        )
    )


if __name__ == "__main__":
    main()
