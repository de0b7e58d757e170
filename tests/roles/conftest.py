from __future__ import annotations

from tests.personas import ada, arjun, bela, maya, rita

__all__ = ["ada", "arjun", "bela", "maya", "rita"]
