"""End-to-end tests: the Flask app in-process, a real FHIR server over a real socket."""
