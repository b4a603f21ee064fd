"""Render layer: which entries ``cards/_defaults.toml`` holds and the placeholders each may use.

Imports only the standard library and ``cds_b12.clinical``. ``wording.py`` checks the
files against these when it loads them, so a misspelt placeholder or a missing word
stops start-up instead of reaching a clinician.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from types import MappingProxyType

from cds_b12.clinical.cause import Cause
from cds_b12.clinical.record import Finding, LabKind, Product, Route, Unreadable

# Placeholders each generated piece of text may use (cards/_defaults.toml).
SECTION_PLACEHOLDERS: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "plan": frozenset({"schedule"}),
        "plan_judged": frozenset({"schedule"}),
        "alternative": frozenset({"schedule"}),
        "labs": frozenset({"labs"}),
        "lab_item": frozenset({"lab", "window"}),
        "lab_item_note": frozenset({"lab", "window", "note"}),
        "lab_window": frozenset({"start", "end"}),
        "lab_date": frozenset({"date"}),
        "lab_today": frozenset(),
        "safety": frozenset(),
        "data_quality": frozenset(),
        "data_quality_item": frozenset({"resource", "message"}),
        "more": frozenset({"count"}),
        "sources": frozenset({"sources"}),
        "source_link": frozenset({"label", "url"}),
        # alert-fatigue history (api/fatigue.py): earlier dismissals of the same rule's card
        "dismissed": frozenset({"dismissals"}),
        "dismissed_item": frozenset({"date", "reason"}),
        "dismissed_no_reason": frozenset(),
        "changes_draft": frozenset({"draft", "order"}),
        "ends_order": frozenset({"draft", "order"}),
        "plan_on": frozenset(),
        "plan_drafted": frozenset({"order"}),
    }
)
ACTION_PLACEHOLDERS: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "create_medication": frozenset({"order", "regimen"}),
        "update_medication": frozenset({"order", "regimen", "draft"}),
        "create_lab": frozenset({"lab", "window"}),
        "delete": frozenset({"draft"}),
        "stop_medication": frozenset({"draft", "order"}),
        "stop_reason": frozenset(),
        "stop_reason_withheld": frozenset(),
    }
)
# [lab_notes] entries that quote a profile value (thresholds.PROFILE_PLACEHOLDERS); the
# others may use none.
LAB_NOTE_PLACEHOLDERS: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "48h": frozenset({"potassium_recheck_hours"}),
        "eight_weeks": frozenset({"cbc_response_weeks"}),
    }
)
# [facts] entries and the placeholders each may use (checked when cards/ is loaded).
FACT_PLACEHOLDERS: Mapping[str, frozenset[str]] = {
    "lab": frozenset({"value", "unit", "date"}),
    "lab_converted": frozenset({"value", "unit", "date", "converted_value", "converted_unit"}),
    "finding": frozenset({"name"}),
    "finding_since": frozenset({"name", "date"}),
    "list_separator": frozenset(),
    "last_dose": frozenset({"date", "days"}),
    "interval_month": frozenset(),
    "interval_months": frozenset({"count"}),
    "interval_week": frozenset(),
    "interval_weeks": frozenset({"count"}),
    "interval_days": frozenset({"count"}),
    "trend_fell": frozenset({"analyte", "start", "end", "unit", "since", "until"}),
    "trend_rose": frozenset({"analyte", "start", "end", "unit", "since", "until"}),
    "trend_separator": frozenset(),
    "stopped": frozenset({"product", "date"}),
    "diet_corrected": frozenset({"date"}),
    "daily_dose": frozenset({"mg"}),
    "dose_mg": frozenset({"dose"}),
    "and_separator": frozenset(),
    "nitrous_oxide": frozenset(),
    "ignored_result": frozenset({"date", "days"}),
    "on_file_too_old": frozenset({"lab", "span", "days"}),
    "on_file_after_dose": frozenset({"lab", "span", "days"}),
    "on_file_not_normal": frozenset({"lab", "span", "days"}),
    "span_month": frozenset({"count"}),
    "span_months": frozenset({"count"}),
    "span_week": frozenset({"count"}),
    "span_weeks": frozenset({"count"}),
    "span_days": frozenset({"count"}),
    "step_month": frozenset(),
    "step_months": frozenset({"count"}),
    "ordered_draft": frozenset({"medication"}),
    "ordered_current": frozenset({"medication"}),
    "undecided_result": frozenset({"analyte", "date"}),
    "unreadable_result": frozenset({"analyte", "date", "reason"}),
    "before_unreadable": frozenset({"lab", "unreadable"}),
    "none_readable": frozenset(),
    "adult_limit": frozenset({"lab", "below", "unit"}),
    "implausible_result": frozenset({"analyte", "date", "value", "unit"}),
    "confounded_renal": frozenset({"analyte", "marker", "evidence"}),
    "confounded_folate": frozenset({"analyte", "marker", "evidence"}),
    "marker": frozenset({"analyte", "result"}),
    "latest": frozenset({"result"}),
}
# Name tables: every member of the enum needs words (checked when cards/ is loaded).
NAME_TABLES: Mapping[str, type[Enum]] = {
    "finding_names": Finding,
    "product_names": Product,
    "cause_names": Cause,
    "analyte_names": LabKind,
    "unit_names": LabKind,
    "route_words": Route,
    "unreadable_reasons": Unreadable,
}
UNNAMED = {Route: frozenset({"UNKNOWN"})}  # never worded: an unknown route is left out

# The reminder calendar's words, [calendar] (cds_b12/reminders.py).
CALENDAR_PLACEHOLDERS: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "name": frozenset({"patient"}),
        "dose": frozenset(),
        "dose_overdue": frozenset({"due"}),
        "dose_plan": frozenset({"schedule"}),
        "dose_current": frozenset({"interval"}),
        "lab": frozenset({"lab"}),
        "lab_overdue": frozenset({"lab"}),
        "lab_due": frozenset({"window"}),
        "lab_was_due": frozenset({"window"}),
        "reason": frozenset({"summary"}),
        "alarm": frozenset({"title"}),
    }
)
