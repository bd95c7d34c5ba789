"""PII detection on the real tables: the true positives found, nothing else flagged.

adult, telco_churn (customerID is an identifier, not PII by itself), bank_marketing and the
rest hold no PII; titanic's Name, compas' name/first/last (and its dob) and the movies'
Director are real person-name columns; two avito listings quote a phone number inside their
text and some spam messages an email address or a phone number (reported with low
confidence, the column kept as a feature).
"""

from __future__ import annotations

import pytest

from apprentice.guard import detect_pii, protection_plan
from tests.guard._tables import load_text, manifest, needs_tables

# table -> (PII columns with kinds, columns with low-confidence findings only)
EXPECTED: dict[str, tuple[dict[str, str], set[str]]] = {
    "titanic.csv": ({"Name": "person_name"}, set()),
    "compas_two_year.csv": (
        {
            "name": "person_name",
            "first": "person_name",
            "last": "person_name",
            "dob": "date_of_birth",
        },
        set(),
    ),
    # film directors are people: the detector cannot tell a public figure's name from anyone
    # else's (``--keep-column Director`` keeps it as a feature)
    "movies.csv": ({"Director": "person_name"}, set()),
    "avito_1k.csv": ({}, {"title", "description"}),
    "sms_spam.tsv": ({}, {"message"}),
}
FILES = [
    str(e["file"])
    for e in manifest()
    if e.get("role") != "scale" and not str(e["file"]).endswith(".parquet")
]


@needs_tables
@pytest.mark.parametrize("name", FILES or ["adult.csv"])
def test_real_table(name: str) -> None:
    report = detect_pii(load_text(name))
    pii, low_only = EXPECTED.get(name, ({}, set()))
    assert report.pii_columns == pii, report.describe()
    assert report.flagged_columns - set(report.pii_columns) == low_only, report.describe()


@needs_tables
def test_the_named_tables_are_checked() -> None:
    for name in ("adult.csv", "titanic.csv", "telco_churn.csv", "bank_marketing.csv"):
        assert name in FILES


@needs_tables
def test_titanic_name_is_excluded_and_the_rest_kept() -> None:
    report = detect_pii(load_text("titanic.csv"))
    finding = report.for_column("Name")[0]
    assert finding.confidence == "high" and finding.share > 0.95
    assert finding.evidence == "name+value"
    plan = protection_plan(report)
    assert plan.feature_exclusions == ["Name"]
    assert plan.excluded["Name"].startswith("PII: person_name")


@needs_tables
def test_telco_customer_id_is_not_pii() -> None:
    report = detect_pii(load_text("telco_churn.csv"))
    assert not report.for_column("customerID")
    assert not report.for_column("PhoneService")  # Yes/No values: not phone numbers
