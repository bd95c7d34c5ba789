"""The guard stage: the schema contract, PII detection and protection.

``infer_schema`` / ``validate`` keep later data honest; ``detect_pii`` finds personal data by
column name and value; ``protection_plan`` decides what happens to it (excluded from features,
pseudonymised with the workspace key, masked in displays, redacted from the ledger).
"""

from apprentice.guard.pii import (
    PII_KINDS,
    PIIFinding,
    PIIReport,
    classify_value,
    detect_pii,
    find_pii_spans,
)
from apprentice.guard.protect import (
    ProtectionPlan,
    apply_protection,
    mask_frame,
    mask_series,
    mask_value,
    protection_plan,
    pseudonymise,
    safe_display,
    scrub_text,
    workspace_key,
)
from apprentice.guard.schema import (
    LOGICAL_TYPES,
    ColumnSchema,
    Schema,
    Violations,
    infer_schema,
    validate,
)

__all__ = [
    "LOGICAL_TYPES",
    "PII_KINDS",
    "ColumnSchema",
    "PIIFinding",
    "PIIReport",
    "ProtectionPlan",
    "Schema",
    "Violations",
    "apply_protection",
    "classify_value",
    "detect_pii",
    "find_pii_spans",
    "infer_schema",
    "mask_frame",
    "mask_series",
    "mask_value",
    "protection_plan",
    "pseudonymise",
    "safe_display",
    "scrub_text",
    "validate",
    "workspace_key",
]
