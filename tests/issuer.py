"""A trusted EHR of our own for tests outside ``tests/auth``: a fresh ES384 key, its JWKS
inline in ``CDS_B12_TRUSTED_ISSUERS``, and tokens addressed to any URL."""

from __future__ import annotations

import json
import time
from uuid import uuid4

import jwt
from cryptography.hazmat.primitives.asymmetric import ec

ISS = "https://ehr.example.org"
KID = "test-ehr-key"


class TestIssuer:
    __test__ = False  # not a test class, whatever pytest thinks of its name

    def __init__(self, iss: str = ISS) -> None:
        self.iss = iss
        self._key = ec.generate_private_key(ec.SECP384R1())
        public = jwt.algorithms.ECAlgorithm.to_jwk(self._key.public_key(), as_dict=True)
        self.jwks = {"keys": [{**public, "kid": KID, "use": "sig", "alg": "ES384"}]}

    def settings(self) -> str:
        """The value of ``CDS_B12_TRUSTED_ISSUERS`` that trusts this issuer."""
        return json.dumps({self.iss: {"jwks": self.jwks}})

    def token(self, aud: str, **overrides: object) -> str:
        now = int(time.time())
        claims = {"iss": self.iss, "aud": aud, "exp": now + 300, "iat": now, "jti": str(uuid4())}
        return jwt.encode(
            {**claims, **overrides},
            self._key,
            algorithm="ES384",
            headers={"typ": "JWT", "kid": KID},
        )

    def bearer(self, aud: str, **overrides: object) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(aud, **overrides)}"}
