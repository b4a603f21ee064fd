"""FHIR layer: the core's frozen records the reader builds for most resources, built
cheaply (``clinical.builder``); the rare ones are built as usual. Imports cds_b12.clinical."""

from __future__ import annotations

from cds_b12.clinical.builder import builder
from cds_b12.clinical.record import (
    ClinicalFinding,
    Lab,
    Medication,
    PatientRecord,
    Quantity,
    Timing,
)

make_finding = builder(ClinicalFinding)
make_lab = builder(Lab)
make_medication = builder(Medication)
make_quantity = builder(Quantity)
make_record = builder(PatientRecord)
make_timing = builder(Timing)
