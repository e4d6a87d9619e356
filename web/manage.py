#!/usr/bin/env python
"""Django's command-line utility for duet's web service (the only manage.py in duet)."""

from duet_web.cli import manage

if __name__ == "__main__":
    manage()
