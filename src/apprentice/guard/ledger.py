"""The clean ledger with its PII section, and the PII-safe account of both.

Mixed into the results of ``workflows.clean_file`` and ``scale.clean_partitioned`` so the two
write the same ledger and say the same things about it.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, ClassVar

from apprentice.guard.protect import safe_display

if TYPE_CHECKING:
    from apprentice.clean.ledger import Ledger
    from apprentice.guard.pii import PIIReport
    from apprentice.guard.protect import ProtectionPlan


class LedgerWithPII:
    """For a result with a ``ledger``, its ``pii`` findings and their ``protection``."""

    ledger: Ledger
    pii: PIIReport
    protection: ProtectionPlan
    # what the PII scan looked at, for "PII: none found (N ... scanned)"
    pii_scanned: ClassVar[str] = "rows"

    def pii_section(self) -> dict[str, Any]:
        """The PII findings and protection decisions (names, kinds, shares; no values)."""
        return {"findings": self.pii.to_dict(), "protection": self.protection.to_dict()}

    def ledger_dict(self) -> dict[str, Any]:
        """The redacted ledger as JSON-able data, with the ``pii`` section."""
        out = self.ledger.to_dict()
        out["pii"] = self.pii_section()
        return out

    def ledger_json(self, *, indent: int | None = 2) -> str:
        return json.dumps(self.ledger_dict(), indent=indent, ensure_ascii=False, default=str)

    def describe(self) -> list[str]:
        """A readable account: the ledger summary, PII findings, protection decisions."""
        lines = list(self.ledger.summary_lines())
        if self.pii.findings:
            lines.append("PII:")
            lines += [f"  {line}" for line in self.pii.describe()]
            lines += [f"  {line}" for line in self.protection.describe()]
        else:
            lines.append(f"PII: none found ({self.pii.rows_scanned:,} {self.pii_scanned} scanned)")
        return [safe_display(line) for line in lines]
