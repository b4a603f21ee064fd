"""A synthetic population as a Bulk FHIR export, for the recall benchmark and tests.

    python -m benchmarks.population --patients N --out DIR [--as-of DATE] [--gzip] [--seed S]

Each patient is one of the bundled fixture patients (``fhir_fixtures/``, every
patient-view scenario, messy ones included) moved back in time by a random
number of days, so an on-time patient may now be overdue and a loading course
may be finished: the clinical mix varies, not just the ids. Each gets new ids,
a name, a record number and a birth date of their own, and is padded with the
everyday resources a real record holds and the B12 rules ignore (vital signs,
encounters, other problems and drugs) to the typical ~40 resources. Files are
written as a Bulk ``$export`` writes them: one type per file, several files per
type when large, patients interleaved, one compact JSON resource per line.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

from cds_b12.fhir.redate import redate
from cds_b12.hooks.fixtures import fixture_patients

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
UCUM = "http://unitsofmeasure.org"
TYPICAL_RESOURCES = (30, 50)  # resources per patient, uniformly
SHIFT_DAYS = (0, 400)  # how far back each patient's story is moved
LINES_PER_FILE = 1_000_000  # then the type's next file, as large exports do
BATCH = 500  # patients whose lines are shuffled together within each file

FAMILY = ("Okafor", "Nguyen", "Smith", "García", "Kowalski", "Patel", "Jones", "Haddad", "Kim")
GIVEN = ("Margaret", "John", "Aisha", "Wei", "Olga", "Rahul", "Mary", "Tomás", "Grace", "Ali")

# Everyday observations the B12 rules do not read: (LOINC, display, UCUM unit, low, high)
VITALS = (
    ("8480-6", "Systolic blood pressure", "mm[Hg]", 105, 165),
    ("8462-4", "Diastolic blood pressure", "mm[Hg]", 60, 100),
    ("8867-4", "Heart rate", "/min", 55, 100),
    ("29463-7", "Body weight", "kg", 48, 110),
    ("39156-5", "Body mass index (BMI) [Ratio]", "kg/m2", 18, 38),
)
OTHER_CONDITIONS = (
    ("38341003", "Hypertensive disorder"),
    ("55822004", "Hyperlipidemia"),
    ("195967001", "Asthma"),
)
OTHER_DRUGS = (("314076", "lisinopril 10 MG Oral Tablet"), ("617318", "atorvastatin 20 MG"))


def templates(as_of: date) -> list[tuple[str, list[dict]]]:
    """(patient id, resources) of every patient-view fixture, dated at ``as_of``."""
    found = []
    for fixture in fixture_patients():
        if fixture.hook != "patient-view":
            continue
        bundle = redate(json.loads(fixture.path.read_text()), as_of)
        found.append((fixture.patient_id, [e["resource"] for e in bundle["entry"]]))
    return found


def person(
    n: int, rng: random.Random, as_of: date, stories: list[tuple[str, list[dict]]]
) -> list[dict]:
    """Patient ``n``'s resources: a fixture's story, moved back in time, made theirs."""
    template_id, resources = stories[n % len(stories)]
    pid = f"p{n:07d}"
    shift = rng.randint(*SHIFT_DAYS)
    text = json.dumps(resources).replace(template_id, pid)  # every id and reference is prefixed
    story = redate(_anchored(json.loads(text), as_of), as_of - timedelta(days=shift))["entry"]
    out = [e["resource"] for e in story]
    for resource in out:
        if resource.get("resourceType") == "Patient":
            _identity(resource, n, rng)
    target = rng.randint(*TYPICAL_RESOURCES)
    out.extend(_padding(pid, target - len(out), rng, as_of))
    return out


def _anchored(resources: list[dict], as_of: date) -> dict:
    return {
        "resourceType": "Bundle",
        "meta": {"tag": [{"system": "urn:cds-b12:fixture", "code": "anchor-dated"}]},
        "timestamp": as_of.isoformat(),
        "entry": [{"resource": r} for r in resources],
    }


def _identity(patient: dict, n: int, rng: random.Random) -> None:
    patient["identifier"] = [
        {
            "type": {
                "coding": [
                    {"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}
                ]
            },
            "system": "urn:oid:2.16.840.1.113883.19.5.99999.1",
            "value": f"MRN{n:08d}",
        }
    ]
    patient["name"] = [
        {"use": "official", "family": rng.choice(FAMILY), "given": [rng.choice(GIVEN)]}
    ]
    born = patient.get("birthDate")
    if isinstance(born, str) and len(born) == 10:
        year = int(born[:4]) + rng.randint(-3, 3)
        patient["birthDate"] = f"{year:04d}{born[4:]}".replace("-02-29", "-02-28")


def _padding(pid: str, count: int, rng: random.Random, as_of: date) -> Iterator[dict]:
    subject = {"reference": f"Patient/{pid}"}
    for i in range(max(0, count)):
        day = as_of - timedelta(days=rng.randint(1, 5 * 365))
        pick = rng.random()
        if pick < 0.7:
            code, display, unit, low, high = rng.choice(VITALS)
            yield {
                "resourceType": "Observation",
                "id": f"{pid}-vital-{i}",
                "status": "final",
                "category": [
                    {
                        "coding": [
                            {
                                "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                "code": "vital-signs",
                            }
                        ]
                    }
                ],
                "code": {"coding": [{"system": LOINC, "code": code, "display": display}]},
                "subject": subject,
                "effectiveDateTime": f"{day.isoformat()}T09:{rng.randint(0, 59):02d}:00-05:00",
                "valueQuantity": {
                    "value": rng.randint(low, high),
                    "unit": unit,
                    "system": UCUM,
                    "code": unit,
                },
            }
        elif pick < 0.9:
            yield {
                "resourceType": "Encounter",
                "id": f"{pid}-enc-{i}",
                "status": "finished",
                "class": {
                    "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                    "code": "AMB",
                },
                "subject": subject,
                "period": {"start": day.isoformat(), "end": day.isoformat()},
            }
        elif pick < 0.95:
            code, display = rng.choice(OTHER_CONDITIONS)
            yield {
                "resourceType": "Condition",
                "id": f"{pid}-other-{i}",
                "clinicalStatus": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                            "code": "active",
                        }
                    ]
                },
                "code": {"coding": [{"system": SNOMED, "code": code, "display": display}]},
                "subject": subject,
                "onsetDateTime": day.isoformat(),
            }
        else:
            code, display = rng.choice(OTHER_DRUGS)
            yield {
                "resourceType": "MedicationRequest",
                "id": f"{pid}-drug-{i}",
                "status": "active",
                "intent": "order",
                "medicationCodeableConcept": {
                    "coding": [{"system": RXNORM, "code": code, "display": display}]
                },
                "subject": subject,
                "authoredOn": day.isoformat(),
            }


class _Writer:
    """One type per file, a new file every ``LINES_PER_FILE`` lines."""

    def __init__(self, out: Path, compress: bool) -> None:
        self.out, self.compress = out, compress
        self.files: dict[str, tuple[object, int, int]] = {}  # type -> (handle, part, lines)
        self.paths: list[Path] = []

    def write(self, rtype: str, lines: list[str]) -> None:
        handle, part, count = self.files.get(rtype, (None, -1, LINES_PER_FILE))
        for line in lines:
            if count >= LINES_PER_FILE:
                if handle is not None:
                    handle.close()
                part += 1
                name = f"{rtype}.{part:03d}.ndjson" + (".gz" if self.compress else "")
                path = self.out / name
                self.paths.append(path)
                handle = (
                    gzip.open(path, "wt", encoding="utf-8", compresslevel=1)  # noqa: SIM115
                    if self.compress
                    else open(path, "w", encoding="utf-8")  # noqa: SIM115
                )
                count = 0
            handle.write(line)
            count += 1
        self.files[rtype] = (handle, part, count)

    def close(self) -> None:
        for handle, _, _ in self.files.values():
            handle.close()


def write_population(
    out: Path, patients: int, as_of: date, *, seed: int = 1, compress: bool = False
) -> list[Path]:
    """Write the export; returns its files."""
    stories = templates(as_of)
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    writer = _Writer(out, compress)
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    try:
        for start in range(0, patients, BATCH):
            by_type: dict[str, list[str]] = {}
            for n in range(start, min(patients, start + BATCH)):
                for resource in person(n, rng, as_of, stories):
                    by_type.setdefault(resource["resourceType"], []).append(dumps(resource) + "\n")
            for rtype in sorted(by_type):
                lines = by_type[rtype]
                rng.shuffle(lines)
                writer.write(rtype, lines)
    finally:
        writer.close()
    return writer.paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.population", description=__doc__)
    parser.add_argument("--patients", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--as-of", type=date.fromisoformat, default=date.today())
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--gzip", action="store_true", help="write .ndjson.gz files")
    args = parser.parse_args(argv)
    paths = write_population(
        args.out, args.patients, args.as_of, seed=args.seed, compress=args.gzip
    )
    size = sum(p.stat().st_size for p in paths)
    print(
        f"{args.patients:,} patients in {len(paths)} files, {size / 1e6:,.0f} MB", file=sys.stderr
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
