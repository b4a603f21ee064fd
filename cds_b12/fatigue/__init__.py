"""Alert-fatigue control: which cards a call holds back because of what clinicians said
about earlier ones (snooze by override reason, accepted cards being acted on, repeats in
one hookInstance or encounter), and the per-site rule settings.

``fingerprint`` and ``policy`` are pure (clinical types in, decisions out); the store reads
the history (``store/history.py``) and the API layer applies the decisions (``api/fatigue.py``).
"""
