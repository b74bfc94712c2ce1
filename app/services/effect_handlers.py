"""The platform effects process steps may declare with ``platformEffect`` (see app/services/effects.py)."""

from __future__ import annotations
