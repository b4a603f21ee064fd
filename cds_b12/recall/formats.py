"""Recall: the worklist written as CSV, as FHIR R4 Tasks (NDJSON), or as one HTML page.

Standard library and ``cds_b12.recall`` only. Every writer takes the rows in
worklist order as an iterator and streams them, so the output can be larger
than memory.
"""

from __future__ import annotations

import csv
import json
import uuid
from collections.abc import Iterable
from datetime import date
from typing import TextIO

from .page import write_page
from .rows import COLUMNS, Row

FORMATS = ("csv", "tasks", "html")
RULE_SYSTEM = "https://cds-b12.example.org/CodeSystem/rule"
ACTION_SYSTEM = "https://cds-b12.example.org/CodeSystem/action"
RECALL_SYSTEM = "https://cds-b12.example.org/recall"
_TASK_IDS = uuid.UUID("6f1c3d52-8a0e-4f57-9b1e-2f6a3c9d7e41")  # namespace: stable Task ids

# FHIR R4 Task.priority (request-priority) from the card's indicator
PRIORITY = {"info": "routine", "warning": "urgent", "critical": "asap"}


def write(
    fmt: str, rows: Iterable[Row], out: TextIO, *, as_of: date, profile: str, schedule: bool
) -> None:
    if fmt == "csv":
        write_csv(rows, out, schedule=schedule)
    elif fmt == "tasks":
        write_tasks(rows, out, as_of=as_of)
    else:
        write_page(rows, out, as_of=as_of, profile=profile, schedule=schedule)


def write_csv(rows: Iterable[Row], out: TextIO, *, schedule: bool) -> None:
    columns = (*COLUMNS, "schedule") if schedule else COLUMNS
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        values = row.as_json()
        values["overdue"] = "yes" if row.overdue else "no"
        writer.writerow([values[c] for c in columns])


def task(row: Row, as_of: date) -> dict:
    """One worklist row as a FHIR R4 Task for a care-management tool or a FHIR server.

    The id and identifier are the same for the same patient, rule and date, so
    loading a rerun of the same day updates rather than duplicates.
    """
    key = f"{row.patient}/{row.rule}/{as_of.isoformat()}"
    resource: dict = {
        "resourceType": "Task",
        "id": str(uuid.uuid5(_TASK_IDS, key)),
        "identifier": [{"system": RECALL_SYSTEM, "value": key}],
        "status": "requested",
        "intent": "plan",
        "priority": PRIORITY[row.indicator],
        "code": {"coding": [{"system": ACTION_SYSTEM, "code": row.kind}], "text": row.summary},
        "description": row.summary,
        "for": {"reference": f"Patient/{row.patient}"},
        "authoredOn": as_of.isoformat(),
        "reasonCode": {"coding": [{"system": RULE_SYSTEM, "code": row.rule}], "text": row.rule},
    }
    if row.name:
        resource["for"]["display"] = row.name
    if row.due:
        period = {"start": row.due}
        if row.due_by:
            period["end"] = row.due_by
        resource["restriction"] = {"period": period}
    if row.detail:
        resource["note"] = [{"text": row.detail}]
    if row.schedule:
        resource["input"] = [
            {
                "type": {"text": "reminder calendar"},
                "valueAttachment": {"contentType": "text/calendar", "url": row.schedule},
            }
        ]
    return resource


def write_tasks(rows: Iterable[Row], out: TextIO, *, as_of: date) -> None:
    for row in rows:
        out.write(json.dumps(task(row, as_of), ensure_ascii=False, separators=(",", ":")) + "\n")
