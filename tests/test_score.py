"""Scoring the reconciliation against the simulator's ground truth."""

from simulator.harness.score import format_scores, score


def test_precision_and_recall_per_type() -> None:
    expected = {
        ("missing_tax_code", "erp", "1"),
        ("missing_tax_code", "erp", "2"),
        ("booking_drift", "crm", "006A"),
    }
    found = {
        ("missing_tax_code", "erp", "1"),
        ("missing_tax_code", "erp", "3"),
        ("duplicate_customer", "crm", "001X"),
    }
    by_type = {s.exception_type: s for s in score(found, expected)}
    assert (by_type["missing_tax_code"].precision, by_type["missing_tax_code"].recall) == (0.5, 0.5)
    assert (by_type["booking_drift"].precision, by_type["booking_drift"].recall) == (1.0, 0.0)
    assert (by_type["duplicate_customer"].precision, by_type["duplicate_customer"].recall) == (
        0.0,
        1.0,
    )
    assert "missing_tax_code" in format_scores(list(by_type.values()))


def test_the_system_is_part_of_the_key() -> None:
    (s,) = score({("duplicate_customer", "erp", "7")}, {("duplicate_customer", "crm", "7")})
    assert s.true_positives == 0
