"""`python -m sandbox <command>`: manage.py of the sandbox partner."""

from __future__ import annotations

import os
import sys

if __name__ == "__main__":
    os.environ["DJANGO_SETTINGS_MODULE"] = "sandbox.settings"
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
