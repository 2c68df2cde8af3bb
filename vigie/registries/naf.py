"""Labels of the NAF rev. 2 subclasses (INSEE's nomenclature d'activités française, 732
codes such as « 47.24Z »): the registers give the code only.

`data/naf-rev2.json` is taken from the npm package @socialgouv/codes-naf (Apache-2.0,
built from INSEE's published nomenclature), keeping the subclasses; `make vendor-naf`
refreshes it (data/README.md).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

DATA = Path(__file__).with_name("data") / "naf-rev2.json"


@cache
def _labels() -> dict[str, str]:
    return json.loads(DATA.read_text(encoding="utf-8"))


def naf_label(code: str) -> str:
    """The label of a subclass (« 47.24Z »), "" for a code NAF rev. 2 does not have."""
    return _labels().get(code, "")
