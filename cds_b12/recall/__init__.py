"""Population recall: a Bulk FHIR export through the patient-view path, as a worklist.

``cds-b12 recall`` (``command.py``) reads the export's files (``export.py``),
routes each line to its patient (``lines.py``), runs every patient through
exactly what a patient-view call runs (``patient.py``), on this machine
(``local.py``) or on Spark (``spark.py``), and writes CSV, FHIR Tasks or an HTML
page (``formats.py``, ``page.py``). Nothing here is imported by the service.
"""
