"""FHIR layer: tolerant reading of FHIR R4 JSON into the clinical record. Imports cds_b12.clinical.

See ``read.py`` for why we read plain dicts instead of validated models.
"""

from .read import collect_resources, read_record

__all__ = ["collect_resources", "read_record"]
