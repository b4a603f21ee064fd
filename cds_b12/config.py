"""Settings: every knob of the service is a ``CDS_B12_*`` environment variable.

The defaults run the service on this machine with nothing configured: the US
profile, a SQLite file under ``./data``, any FHIR server, no caller authentication. The README's
configuration table lists each variable; ``tests/test_front_door.py`` keeps the
two in step.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field, PrivateAttr, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from .clinical.profiles import PROFILES, Profile
from .overrides import OverrideError, with_overrides

if TYPE_CHECKING:
    from .fatigue.sites import SiteTable

ENV_PREFIX = "CDS_B12_"
_CSP_SOURCE = re.compile(r"'none'|'self'|(https?://)?(\*\.)?[A-Za-z0-9.-]+(:(\d{1,5}|\*))?|https:")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, frozen=True, extra="ignore")

    profile: Literal["us", "uk"] = "us"
    profile_overrides: Path | None = None  # TOML file of judgement values per profile
    site_settings: Path | None = None  # TOML or JSON per-site rule settings (fatigue/sites.py)
    data_dir: Path = Path("data")
    database_url: str | None = None  # None: a SQLite file in data_dir
    pseudonym_key: SecretStr | None = None
    public_url: str | None = None
    trusted_issuers: Annotated[dict[str, dict[str, Any]], NoDecode] = Field(default_factory=dict)
    redis_url: str | None = None
    fhir_server_allowlist: Annotated[tuple[str, ...], NoDecode] = ()
    fhir_connect_timeout: float = Field(default=2.0, gt=0)
    fhir_read_timeout: float = Field(default=5.0, gt=0)
    # below gunicorn's 30 s worker timeout, and deploy/nginx.conf's 20 s proxy_read_timeout
    fhir_deadline: float = Field(default=8.0, gt=0, le=15)
    fhir_max_pages: int = Field(default=10, ge=1)
    fhir_calls_per_server: int = Field(default=3, ge=1)
    fhir_calls: int = Field(default=8, ge=1)
    allow_loopback_http: bool = False  # with issuers: http FHIR servers on this machine only
    # None: "*" with trusted issuers (every call has a bearer token), else loopback origins only
    cors_origins: Annotated[tuple[str, ...] | None, NoDecode] = None
    frame_ancestors: str = "'none'"  # CSP sources that may frame the pages (an EHR's origin)
    smart_client_id: str | None = None  # set: cards link to the timeline as a SMART app
    smart_auth_servers: Annotated[tuple[str, ...], NoDecode] = ()
    cards_dir: Path | None = None
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    metrics: bool = True  # GET /metrics, Prometheus text format
    metrics_token: SecretStr | None = None  # bearer token for /metrics; needed with issuers
    report_token: SecretStr | None = None  # bearer token for /report; needed with issuers
    proxy_count: int = Field(default=0, ge=0, le=5)  # proxies whose X-Forwarded-* we believe

    _profiles: Mapping[str, Profile] = PrivateAttr(default_factory=lambda: PROFILES)
    _sites: SiteTable | None = PrivateAttr(default=None)

    @field_validator("profile", "log_level", mode="before")
    @classmethod
    def _case(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        value = value.strip()
        return value.lower() if value.lower() in ("us", "uk") else value.upper()

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        # a plain string, not a URL type: the JWT `aud` check compares it exactly
        return value.rstrip("/") if value else None

    @field_validator("metrics_token", "report_token")
    @classmethod
    def _token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        if len(value.get_secret_value().strip()) < 16:
            raise ValueError("must be at least 16 characters (a random secret)")
        return SecretStr(value.get_secret_value().strip())

    @field_validator("trusted_issuers", mode="before")
    @classmethod
    def _issuers(cls, value: object) -> object:
        """Inline JSON, or the path of a JSON file, mapping each issuer to its keys."""
        if not isinstance(value, str):
            return value
        text = value.strip()
        if not text:
            return {}
        if not text.startswith(("{", "[")):  # a JSON array is a mistaken inline value, not a path
            try:
                text = Path(text).read_text(encoding="utf-8")
            except OSError as exc:
                raise ValueError(f"cannot read {value}: {exc.strerror or exc}") from None
        try:
            issuers = json.loads(text)
        except ValueError as exc:
            raise ValueError(f"not a JSON object: {exc}") from None
        if not isinstance(issuers, dict):
            raise ValueError("not a JSON object mapping each issuer to its keys")
        return issuers

    @field_validator("cards_dir")
    @classmethod
    def _cards_dir(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_dir():
            raise ValueError(f"not a directory: {value}")
        return value

    @field_validator("fhir_server_allowlist", "cors_origins", "smart_auth_servers", mode="before")
    @classmethod
    def _list(cls, value: object) -> object:
        """A JSON list, or comma-separated values."""
        if not isinstance(value, str):
            return value
        text = value.strip()
        if text.startswith("["):
            try:
                return json.loads(text)
            except ValueError as exc:
                raise ValueError(f"not a JSON list: {exc}") from None
        return tuple(part.strip() for part in text.split(",") if part.strip())

    @field_validator("frame_ancestors")
    @classmethod
    def _sources(cls, value: str) -> str:
        """CSP source expressions only: nothing that could end the directive or the header."""
        sources = value.split()
        if not sources or not all(_CSP_SOURCE.fullmatch(s) for s in sources):
            raise ValueError(
                "a space-separated list of CSP sources, e.g. 'none', 'self' or "
                "https://ehr.example.org"
            )
        return " ".join(sources)

    @field_validator("trusted_issuers")
    @classmethod
    def _issuer_entries(cls, value: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        if value:  # the JWT stack is imported only when there are issuers to check
            from .auth.issuers import parse_issuers

            parse_issuers(value)  # each entry is checked now, so a typo stops start-up
        return value

    @model_validator(mode="after")
    def _audience_base(self) -> Settings:
        if self.trusted_issuers and not self.public_url:
            raise ValueError(
                "CDS_B12_PUBLIC_URL is required with CDS_B12_TRUSTED_ISSUERS: "
                "tokens are checked against the service's public URL"
            )
        return self

    @model_validator(mode="after")
    def _profile_overrides(self) -> Settings:
        """Read and check the overrides now, so a typo stops start-up, not a call."""
        if self.profile_overrides is not None:
            self._profiles = load_profile_overrides(self.profile_overrides)
        return self

    @model_validator(mode="after")
    def _site_settings(self) -> Settings:
        """Read and check the site settings now: a file that would switch a safety rail off,
        or has a typo, stops start-up in one line."""
        if self.site_settings is not None:
            from .fatigue.sites import SiteError, load_sites

            try:
                self._sites = load_sites(self.site_settings)
            except SiteError as exc:
                raise ValueError(f"{ENV_PREFIX}SITE_SETTINGS: {exc}") from None
        return self

    @property
    def site_table(self) -> SiteTable | None:
        """The site settings as read at start (None: no file)."""
        return self._sites

    @property
    def profiles(self) -> Mapping[str, Profile]:
        """Both guideline profiles, with this deployment's judgement overrides applied."""
        return self._profiles

    @property
    def store_url(self) -> str:
        """The feedback and audit store: ``CDS_B12_DATABASE_URL``, else SQLite in the data dir."""
        return self.database_url or f"sqlite:///{(self.data_dir / 'cds-b12.sqlite3').resolve()}"

    @property
    def authenticating(self) -> bool:
        """Callers must present a JWT from a trusted issuer (else: local development only)."""
        return bool(self.trusted_issuers)

    @field_validator("fhir_server_allowlist", "smart_auth_servers")
    @classmethod
    def _bases(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(base.rstrip("/") for base in value)


def load_profile_overrides(path: Path) -> Mapping[str, Profile]:
    """The profiles with the judgement values of the TOML file ``path`` (``[us]``, ``[uk]``).

    Raises ValueError naming the setting, the file and the value at fault.
    """
    where = f"{ENV_PREFIX}PROFILE_OVERRIDES: {path}"
    try:
        with path.open("rb") as fh:
            raw = tomllib.load(fh)
    except OSError as exc:
        raise ValueError(f"{where}: cannot read it ({exc.strerror or exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{where}: not valid TOML ({exc})") from None
    try:
        return with_overrides(raw)
    except OverrideError as exc:
        raise ValueError(f"{where}: {exc}") from None


def describe_error(exc: Exception) -> str:
    """One line naming each bad variable, for ``serve`` to print instead of a traceback."""
    errors = getattr(exc, "errors", None)
    if not callable(errors):
        return str(exc)
    parts = []
    for err in errors():
        message = err["msg"].removeprefix("Value error, ")
        if err["loc"]:
            message = f"{ENV_PREFIX}{str(err['loc'][0]).upper()}: {message}"
        parts.append(message)
    return "; ".join(parts)
