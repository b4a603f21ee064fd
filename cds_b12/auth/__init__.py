"""Auth layer: which EHRs may call us, proven by the JWT they sign (CDS Hooks 2.0 §Trusting
CDS Clients). Imported by the API layer only; never by the clinical core.
"""
