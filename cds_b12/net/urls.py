"""Outbound URLs: parsed once, by the parser the HTTP client uses, and checked on that parse.

``requests`` hands every URL to urllib3's ``parse_url``; the standard library's
``urlsplit`` reads some strings differently (``http://a:1\\@b:2/`` is host ``b``
to it and host ``a`` to urllib3). So every URL the service contacts (a caller's
``fhirServer``, a ``next`` link, a JWKS or ``jku`` URL, a SMART ``iss`` and its
OAuth endpoints) goes through ``parse`` here, and the client is handed
``Target.url``, rebuilt from that parse: the check and the connection see the
same scheme, host and port. Forms that parsers are known to read differently
are refused rather than interpreted: a backslash, userinfo, whitespace or
control characters, non-ASCII, percent-encoding in the authority, an IP address
in anything but its canonical form, a trailing dot, dot segments, and anything
else on which ``urlsplit`` and urllib3 disagree.

``UrlPolicy.check`` is the one policy function: which schemes, and which bases.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from urllib3.exceptions import LocationParseError
from urllib3.util import Url, parse_url

DEFAULT_PORTS = {"http": 80, "https": 443}
MAX_URL_LENGTH = 4096
_HOST_NAME = re.compile(r"^[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*$")
_NUMERIC_LABEL = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$")  # WHATWG: a host "ending in a number"


class UrlRefused(ValueError):
    """The URL may not be contacted; ``str(exc)`` says why without repeating the URL, which
    may carry credentials, so it can go to a client and a log line."""


@dataclass(frozen=True, slots=True)
class Target:
    """One outbound URL as the HTTP client will read it."""

    scheme: str  # "http" or "https"
    host: str  # lower case; an IPv6 address in brackets, compressed
    port: int  # as given, or the scheme's default
    path: str  # as urllib3 sends it
    query: str | None

    @property
    def url(self) -> str:
        """The URL to give the HTTP client: the same reading, with nothing left to reinterpret."""
        port = None if self.port == DEFAULT_PORTS[self.scheme] else self.port
        return Url(self.scheme, host=self.host, port=port, path=self.path, query=self.query).url

    @property
    def origin(self) -> tuple[str, str, int]:
        return self.scheme, self.host, self.port

    @property
    def segments(self) -> tuple[str, ...]:
        return tuple(seg for seg in self.path.split("/") if seg)

    @property
    def loopback(self) -> bool:
        """This machine: ``localhost`` or a loopback address (127.0.0.0/8, ``::1``)."""
        return self.host == "localhost" or loopback_address(self.host.strip("[]"))

    def under(self, base: Target) -> bool:
        """The same origin as ``base``, at ``base``'s path or below it, by whole segments."""
        return self.origin == base.origin and self.segments[: len(base.segments)] == base.segments

    def join(self, relative: str) -> str:
        """``relative`` below this base, as a string still to be checked by ``parse``."""
        return self.url.rstrip("/") + "/" + relative.lstrip("/")


def loopback_address(text: str) -> bool:
    """An address on this machine's loopback: 127.0.0.0/8, ``::1``, or either IPv4-mapped."""
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address.is_loopback


def parse(url: object) -> Target:
    """The URL as urllib3 reads it, or ``UrlRefused`` if it is ambiguous or not http(s)."""
    if not isinstance(url, str) or not url:
        raise UrlRefused("is not a URL")
    if len(url) > MAX_URL_LENGTH:
        raise UrlRefused(f"is longer than {MAX_URL_LENGTH} characters")
    if not url.isascii():
        raise UrlRefused("has non-ASCII characters (percent-encode them)")
    if any(c <= " " or c == "\x7f" for c in url):
        raise UrlRefused("has whitespace or control characters")
    if "\\" in url:
        raise UrlRefused("has a backslash")
    try:
        split = urlsplit(url)
        theirs = parse_url(url)
    except (ValueError, LocationParseError):
        raise UrlRefused("is not a well-formed URL") from None
    scheme = (theirs.scheme or "").lower()
    if scheme not in DEFAULT_PORTS or split.scheme.lower() != scheme:
        raise UrlRefused("must be an http or https URL")
    authority = url.split("://", 1)[1] if "://" in url else ""
    authority = re.split(r"[/?#]", authority, maxsplit=1)[0]
    if "@" in authority or theirs.auth is not None or "@" in split.netloc:
        raise UrlRefused("has userinfo (a user name or password before the host)")
    if "%" in authority:
        raise UrlRefused("has percent-encoding in the host or port")
    for seg in split.path.split("/"):
        plain = unquote(seg)
        if plain in (".", ".."):
            raise UrlRefused("has a '.' or '..' path segment")
        if "/" in plain or "\\" in plain:
            raise UrlRefused("has an encoded slash in its path")
    try:
        split_port = split.port if split.port is not None else DEFAULT_PORTS[scheme]
    except ValueError:
        raise UrlRefused("has a bad port") from None
    port = theirs.port if theirs.port is not None else DEFAULT_PORTS[scheme]
    path = theirs.path or ""
    if (
        (split.hostname or "").lower() != (theirs.host or "").lower().strip("[]")
        or split_port != port
        or unquote(split.path) != unquote(path)
        or unquote(split.query) != unquote(theirs.query or "")
    ):
        raise UrlRefused("is read differently by different URL parsers")
    host = _canonical_host(theirs.host or "")
    return Target(scheme, host, port, path or "/", theirs.query)


def _canonical_host(host: str) -> str:
    host = host.lower()
    if not host:
        raise UrlRefused("has no host")
    if host.startswith("["):
        try:
            address = ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            raise UrlRefused("has a bad IPv6 address") from None
        if address.scope_id:
            raise UrlRefused("has an IPv6 zone")
        if address.ipv4_mapped:  # ::ffff:127.0.0.1 is 127.0.0.1 on a dual-stack socket
            raise UrlRefused("has an IPv4-mapped IPv6 address (write the IPv4 address)")
        return f"[{address.compressed}]"
    if host.endswith("."):
        raise UrlRefused("has a host ending in a dot")
    if not _HOST_NAME.match(host):
        raise UrlRefused("has characters not allowed in a host name")
    # 2130706433, 0x7f.1, 0177.0.0.1 and 127.1 all reach 127.0.0.1
    if _NUMERIC_LABEL.match(host.rsplit(".", 1)[-1]) and _ip_form(host) != host:
        raise UrlRefused("has an IPv4 address not in dotted-decimal form")
    return host


def _ip_form(host: str) -> str | None:
    try:
        return str(ipaddress.IPv4Address(host))
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class UrlPolicy:
    """Which URLs may be contacted.

    ``bases``: a URL must be one of them or under one. With no bases, ``open``
    allows any URL and a closed policy allows none. ``https_only`` refuses plain
    http, except to this machine when ``http_loopback`` is set.
    """

    bases: tuple[Target, ...] = ()
    open: bool = True
    https_only: bool = False
    http_loopback: bool = False

    @classmethod
    def of(cls, bases: Iterable[str], *, open: bool = True, **kwargs: bool) -> UrlPolicy:
        """From configured base URLs; a base that does not parse can match nothing and is
        left out (``unreachable`` names it, so start-up can warn). An allowlist of nothing
        but such bases allows nothing: it never falls back to ``open``."""
        given, parsed = list(bases), []
        for base in given:
            try:
                parsed.append(parse(base))
            except UrlRefused:
                continue
        return cls(tuple(parsed), open=open and not given, **kwargs)

    def check(self, url: object) -> Target:
        """The parsed URL if it may be contacted; otherwise ``UrlRefused`` saying why."""
        target = parse(url)
        refusal = self._scheme_refusal(target)
        if refusal:
            raise UrlRefused(refusal)
        if self.bases:
            if not any(target.under(base) for base in self.bases):
                raise UrlRefused("is not on the allowlist")
        elif not self.open:
            raise UrlRefused("is not allowed: no server is configured for this caller")
        return target

    def unreachable(self, bases: Iterable[str]) -> list[tuple[str, str]]:
        """The configured bases that no URL can ever match under this policy, with why."""
        found = []
        for base in bases:
            try:
                refusal = self._scheme_refusal(parse(base))
            except UrlRefused as exc:
                refusal = str(exc)
            if refusal:
                found.append((base, refusal))
        return found

    def _scheme_refusal(self, target: Target) -> str | None:
        if not self.https_only or target.scheme == "https":
            return None
        if self.http_loopback:
            return None if target.loopback else "must use https (http only to this machine)"
        return "must use https"
