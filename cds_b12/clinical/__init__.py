"""Clinical core: pure functions from a typed patient record to cited recommendations.

Never imports flask, requests, a database, or any other cds_b12 layer; reads
neither the clock nor the environment (``as_of`` and the profile are arguments).
"""

from .evaluate import Evaluation, evaluate
from .profiles import PROFILES, Profile, get_profile

__all__ = ["PROFILES", "Evaluation", "Profile", "evaluate", "get_profile"]
