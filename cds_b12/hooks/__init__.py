"""Hooks layer: turn one hook's FHIR data into the CDS Hooks response body."""
