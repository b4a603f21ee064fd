"""Typed facts are worded in render/ from cards/_defaults.toml: every kind of fact has words,
the value as the lab reported it stays available, and text from the core is refused."""

from __future__ import annotations

import shutil
import typing
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from cds_b12.clinical import facts as f
from cds_b12.clinical.cause import Cause
from cds_b12.clinical.markers import Confounded, Confounder
from cds_b12.clinical.profiles import UK, US
from cds_b12.clinical.recommendation import LabNote
from cds_b12.clinical.record import (
    Finding,
    IgnoredResult,
    Lab,
    LabKind,
    Medication,
    MedSource,
    Product,
    Quantity,
    Route,
    Unreadable,
    UnreadableResult,
)
from cds_b12.render import RenderError, load_card_library, render_cards
from cds_b12.render.facts import FactWords
from cds_b12.render.wording import DEFAULT_CARDS_DIR, CardLibrary

from .render_support import AS_OF, PATIENT
from .rule_specs import make_rec

B12 = Lab(
    LabKind.B12, 257.45, date(2026, 1, 3), "Observation/b12", reported=Quantity(190, "pmol/L")
)
SAMPLES: dict[type, object] = {
    date: date(2026, 1, 3),
    int: 15,
    float: 0.45,
    Lab: B12,
    Finding: Finding.PERNICIOUS_ANAEMIA,
    Product: Product.METFORMIN,
    Medication: Medication(
        MedSource.REQUEST,
        Product.FOLIC_ACID,
        "MedicationRequest/m",
        "draft",
        None,
        dose_mg=5.0,
        route=Route.ORAL,
    ),
    f.Findings: f.Findings.of(()),
    f.CauseFact: f.CauseFact(Cause.UNKNOWN, f.Findings(())),
    f.LastDose: f.LastDose(date(2025, 12, 1), 45),
    f.Interval: f.Interval(30),
    f.Trends: f.Trends(()),
    f.Stopped: f.Stopped(Product.METFORMIN, date(2025, 6, 1)),
    f.DietCorrected: f.DietCorrected(date(2025, 6, 1)),
    f.Years: f.Years(5 * 365),
    f.DailyDose: f.DailyDose(1500),
    f.Agents: f.Agents((Product.METFORMIN,), nitrous_oxide=True),
    f.OnFile: f.OnFile(B12, f.Unused.TOO_OLD, 365),
    f.Ordered: f.Ordered(
        Medication(MedSource.REQUEST, Product.FOLIC_ACID, "MedicationRequest/m", "active", None),
        draft=False,
    ),
    f.Confoundings: f.Confoundings(
        (
            Confounded(
                Lab(LabKind.HCY, 24, date(2026, 1, 3), "Observation/hcy"),
                Confounder.FOLATE,
                Lab(LabKind.FOLATE, 2.1, date(2026, 1, 3), "Observation/folate"),
            ),
        ),
        (Lab(LabKind.FOLATE, 2.1, date(2026, 1, 3), "Observation/folate"),),
    ),
    f.Unreadables: f.Unreadables(
        (UnreadableResult(LabKind.B12, "Observation/b12", date(2026, 1, 3), Unreadable.NO_UNIT),)
    ),
    f.NoneReadable: f.NoneReadable(
        f.Unreadables(
            (
                UnreadableResult(
                    LabKind.MMA, "Observation/mma", date(2026, 1, 3), Unreadable.NO_UNIT
                ),
            )
        )
    ),
    f.BeforeUnreadable: f.BeforeUnreadable(
        B12,
        f.Unreadables(
            (
                UnreadableResult(
                    LabKind.B12, "Observation/b12", date(2026, 1, 9), Unreadable.NO_UNIT
                ),
            )
        ),
    ),
    f.Markers: f.Markers((Lab(LabKind.MMA, 0.62, date(2026, 1, 3), "Observation/mma"),)),
    f.Latest: f.Latest(B12),
    f.AdultLimit: f.AdultLimit(Lab(LabKind.POTASSIUM, 3.2, date(2026, 1, 3), "Observation/k"), 3.5),
}


def test_every_kind_of_fact_has_words(library: CardLibrary) -> None:
    kinds = {t for t in typing.get_args(f.Fact) if t is not type(None)}
    assert kinds == set(SAMPLES)
    for profile in (UK, US):
        words = FactWords(library, profile.name)
        for kind, sample in SAMPLES.items():
            assert words.word("b12", sample), kind


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (B12, "190 pmol/L (257 pg/mL) on 2026-01-03"),
        (f.Interval(30), "every month"),
        (
            f.OnFile(B12, f.Unused.TOO_OLD, 90),
            "190 pmol/L (257 pg/mL) on 2026-01-03, more than 3 months old, so it does not count",
        ),
        (
            f.OnFile(B12, f.Unused.AFTER_DOSE, 14),
            "190 pmol/L (257 pg/mL) on 2026-01-03, within 14 days of an injection, "
            "so it does not reflect B12 stores",
        ),
        (f.Interval(90), "every 3 months"),
        (f.Interval(14), "every 2 weeks"),
        (f.Interval(10), "every 10 days"),
        (f.Years(2374), "6.5"),
        (f.Agents((Product.METFORMIN,), nitrous_oxide=True), "metformin and nitrous oxide"),
        (SAMPLES[f.Unreadables], "B12 of 2026-01-03: no unit given"),
        (f.Latest(B12), "; latest: 190 pmol/L (257 pg/mL) on 2026-01-03"),
        (f.Latest(None), ""),
        (
            SAMPLES[f.AdultLimit],
            "3.2 mmol/L on 2026-01-03, below 3.5 mmol/L, the adult limit: the lab gave no range"
            " and the guidance no child's value, so check it against a range for the child's age",
        ),
        (
            SAMPLES[f.Confoundings],
            "A raised homocysteine (24 µmol/L on 2026-01-03) with a low folate:"
            " 2.1 ng/mL on 2026-01-03",
        ),
        (replace(B12, comparator="<", reported=None, value=150), "&lt;150 pg/mL on 2026-01-03"),
        (f.CauseFact(Cause.MEDICATION, f.Findings(())), "long-term metformin or acid suppression"),
        (
            SAMPLES[Medication],
            "folic acid 5 mg by mouth",
        ),
        (
            f.Findings.of(()),
            "none recorded",
        ),
    ],
)
def test_facts_read_as_the_cards_read_today(library: CardLibrary, value, expected) -> None:
    name = "neuro" if isinstance(value, f.Findings) else "x"
    assert FactWords(library, "US").word(name, value) == expected


def test_findings_read_oldest_first_and_by_name_within_a_date(library: CardLibrary) -> None:
    same_day = date(2020, 1, 1)
    findings = f.Findings(
        (
            f.Since(Finding.SHORT_BOWEL, same_day),
            f.Since(Finding.GASTRECTOMY, same_day),
            f.Since(Finding.CROHNS, None),
        )
    )
    assert FactWords(library, "UK").word("cause", findings) == (
        "gastrectomy (since 2020-01-01), short bowel syndrome (since 2020-01-01), Crohn's disease"
    )


@pytest.mark.parametrize(
    ("profile", "lab", "expected"),
    [
        # Issue 11 §4: as the lab reported it, the profile's unit beside it when it differs.
        ("UK", B12, "190 pmol/L (257 ng/L) on 2026-01-03"),
        ("US", B12, "190 pmol/L (257 pg/mL) on 2026-01-03"),
        (
            "US",
            Lab(LabKind.B12, 140, date(2026, 1, 3), "O/b", reported=Quantity(140, "pg/mL")),
            "140 pg/mL on 2026-01-03",
        ),
        (
            "UK",
            Lab(LabKind.B12, 140, date(2026, 1, 3), "O/b", reported=Quantity(140, "pg/mL")),
            "140 pg/mL on 2026-01-03",
        ),
        ("US", Lab(LabKind.B12, 140, date(2026, 1, 3), "O/b"), "140 pg/mL on 2026-01-03"),
        ("UK", Lab(LabKind.B12, 140, date(2026, 1, 3), "O/b"), "140 ng/L on 2026-01-03"),
        (
            "UK",
            Lab(LabKind.HB, 12.3, date(2026, 1, 3), "O/h", reported=Quantity(123, "g/L")),
            "123 g/L (12.3 g/dL) on 2026-01-03",
        ),
    ],
)
def test_a_result_reads_as_the_lab_reported_it(library, profile, lab, expected) -> None:
    assert FactWords(library, profile).word("b12", lab) == expected


def test_an_ignored_result_is_worded_as_a_data_quality_note(library: CardLibrary) -> None:
    note = IgnoredResult("Observation/b12-9", date(2026, 1, 10), 14)
    assert FactWords(library, "US").note(note) == (
        "Observation/b12-9",
        "B12 of 2026-01-10 ignored: taken within 14 days of an injection",
    )


IMPLAUSIBLE_HB = UnreadableResult(
    LabKind.HB,
    "Observation/hb",
    date(2026, 11, 30),
    Unreadable.IMPLAUSIBLE,
    Lab(LabKind.HB, 75, date(2026, 11, 30), "Observation/hb", reported=Quantity(75, "g/dL")),
)
SAID = "Hb of 2026-11-30: 75 g/dL is outside what a living patient can have; check the unit"


@pytest.mark.parametrize("profile", ["US", "UK"])
def test_an_implausible_result_is_said_with_its_value_as_reported(library, profile) -> None:
    words = FactWords(library, profile)
    assert words.word("unreadable", f.Unreadables((IMPLAUSIBLE_HB,))) == SAID
    assert words.note(IMPLAUSIBLE_HB) == ("Observation/hb", SAID)  # the data-quality note
    as_sent = replace(IMPLAUSIBLE_HB.lab, value=75, reported=Quantity(750, "g/L"))
    assert words.unreadable(replace(IMPLAUSIBLE_HB, lab=as_sent)).startswith(
        "Hb of 2026-11-30: 750 g/L is outside"
    )


@pytest.mark.parametrize("fact", ["152 ng/L on 2026-01-03", True, object()])
def test_text_or_an_unknown_type_from_the_core_is_refused(fact) -> None:
    rec = make_rec("R2-start-standard-loading", US)
    rec.facts["b12"] = fact  # type: ignore[index]
    with pytest.raises(RenderError, match="b12"):
        render_cards([rec], profile=US, as_of=AS_OF, patient_id=PATIENT)


def test_a_missing_word_fails_at_load(tmp_path: Path) -> None:
    for table, line in (
        ("finding_names", 'LEBER = "Leber hereditary optic neuropathy"\n'),
        ("lab_notes", 'annual = "yearly check"\n'),
        ("facts", 'daily_dose = "{mg} mg/day"\n'),
    ):
        cards = tmp_path / table
        shutil.copytree(DEFAULT_CARDS_DIR, cards)
        defaults = cards / "_defaults.toml"
        defaults.write_text(defaults.read_text().replace(line, ""))
        with pytest.raises(RenderError, match=rf"\[{table}\]: missing"):
            load_card_library(cards)
    assert {note.value for note in LabNote} <= set(load_card_library().defaults["lab_notes"])


def test_a_b12_a_newer_unreadable_one_may_supersede_says_the_card_rests_on_it(
    library: CardLibrary,
) -> None:
    said = FactWords(library, "US").word("b12", SAMPLES[f.BeforeUnreadable])
    assert "rests on it" in said and "B12 of 2026-01-09" in said and "no unit" in said


def _hb(value: float, on: date, reported: Quantity) -> Lab:
    return Lab(LabKind.HB, value, on, "O/h", reported=reported)


@pytest.mark.parametrize(
    ("reported", "expected"),
    [
        # as the lab reported them: the trend once read "from 13.8 to 11.4 g/dL" over g/L
        ((Quantity(138, "g/L"), Quantity(114, "g/L")), "Hb fell from 138 to 114 g/L"),
        # two units: both in the profile's, so the two numbers compare
        ((Quantity(138, "g/L"), Quantity(11.4, "g/dL")), "Hb fell from 13.8 to 11.4 g/dL"),
    ],
)
def test_a_trend_quotes_its_values_as_the_lab_reported_them(library, reported, expected):
    start = _hb(13.8, date(2026, 5, 15), reported[0])
    end = _hb(11.4, date(2026, 11, 28), reported[1])
    trend = f.LabTrend(LabKind.HB, f.Direction.FELL, start, end)
    assert FactWords(library, "UK").trend(trend) == f"{expected} (2026-05-15 to 2026-11-28)"
