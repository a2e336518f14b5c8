"""API keys and bearer tokens, as the documents describe them.

The mock signs its own HS256 tokens (claims `sub` = user id, `type` = FED or DKTCONNECT,
`iat`, `exp`), so tests can mint tokens for any fixture user, including expired ones for the
documented 498. With `verify_signature=False` it accepts tokens from a real identity provider
and takes the user id and type from their claims, so a partner can reuse real tokens offline.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

from mock_server.domain.clock import Clock
from mock_server.errors import ApiError

ALGORITHM = "HS256"
DEFAULT_TOKEN_TTL = timedelta(hours=12)
USER_TYPES = ("FED", "DKTCONNECT")


class AuthError(ApiError):
    """401 (bad or missing credentials) or 498 (expired token), with a message saying which."""


@dataclass(frozen=True)
class TokenClaims:
    user_id: str
    user_type: str
    name: str | None
    expires_at: datetime | None


class ApiKeys:
    def __init__(self, keys: Iterable[str]) -> None:
        self._keys = frozenset(k for k in keys if k)

    def check(self, presented: str | None) -> None:
        if not presented:
            raise AuthError(401, "Missing API key: send it in the X-Api-Key header.")
        if presented not in self._keys:
            raise AuthError(401, "Unknown API key in the X-Api-Key header.")

    @property
    def keys(self) -> frozenset[str]:
        return self._keys


#: How many verified tokens `Tokens.verify` remembers (a test suite uses a handful).
TOKEN_CACHE_SIZE = 4096


class Tokens:
    """Issues and verifies bearer tokens against the mock's clock (so 498 follows it).

    Decoding and checking an HS256 signature costs ~50 us, a sixth of a whole request, and a
    client sends the same token with every call: the claims of a token already decoded are
    remembered (by its exact text, so a changed byte is decoded afresh), while expiry is still
    checked against the clock on every call, since the clock can move.
    """

    def __init__(self, secret: str, clock: Clock, *, verify_signature: bool = True) -> None:
        self._secret = secret
        self._clock = clock
        self._verify_signature = verify_signature
        self._verified: dict[str, TokenClaims] = {}

    def issue(self, user_id: str, user_type: str, *, ttl: timedelta = DEFAULT_TOKEN_TTL,
              name: str | None = None) -> str:
        now = self._clock.now()
        claims: dict[str, object] = {
            "sub": user_id,
            "type": user_type,
            "iat": int(now.timestamp()),
            "exp": int((now + ttl).timestamp()),
        }
        if name:
            claims["name"] = name
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def verify(self, authorization: str | None) -> TokenClaims:
        known = self._verified.get(authorization) if authorization else None
        if known is not None:
            if known.expires_at is not None and known.expires_at <= self._clock.now():
                raise AuthError(498, f"Token expired at {known.expires_at:%Y-%m-%dT%H:%M:%SZ}.")
            return known
        claims = self._decode(authorization)
        if len(self._verified) >= TOKEN_CACHE_SIZE:
            self._verified.clear()
        self._verified[str(authorization)] = claims
        return claims

    def _decode(self, authorization: str | None) -> TokenClaims:
        if not authorization:
            raise AuthError(
                401,
                "Missing bearer token: send 'Authorization: Bearer <token>' "
                "(`mock-server token` prints one).",
            )
        scheme, _, token = authorization.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise AuthError(401, "Malformed Authorization header: expected 'Bearer <token>'.")
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM] if self._verify_signature else None,
                options={
                    "verify_signature": self._verify_signature,
                    "verify_exp": False,  # checked below against the mock's (virtual) clock
                    # PyJWT would compare these with the wall clock: a token minted on a mock
                    # clock moved ahead would be "not yet valid".
                    "verify_iat": False,
                    "verify_nbf": False,
                    "require": ["sub"],
                },
            )
        except jwt.PyJWTError as exc:
            raise AuthError(401, f"Invalid bearer token: {exc}.") from None
        expires_at = None
        if "exp" in claims:
            try:
                expires_at = datetime.fromtimestamp(float(claims["exp"]), tz=UTC)
            except (TypeError, ValueError, OverflowError):
                raise AuthError(401, "Invalid bearer token: bad 'exp' claim.") from None
            if expires_at <= self._clock.now():
                raise AuthError(498, f"Token expired at {expires_at:%Y-%m-%dT%H:%M:%SZ}.")
        user_type = str(claims.get("type", "DKTCONNECT")).upper()
        if user_type not in USER_TYPES:
            raise AuthError(401, f"Invalid bearer token: type must be one of {USER_TYPES}.")
        name = claims.get("name")
        if name is None and (claims.get("given_name") or claims.get("family_name")):
            name = " ".join(str(claims.get(k, "")) for k in ("given_name", "family_name")).strip()
        return TokenClaims(str(claims["sub"]), user_type, name, expires_at)


@dataclass(frozen=True)
class Credentials:
    """What the API checks a call against: the accepted keys and the token verifier."""

    api_keys: ApiKeys
    tokens: Tokens
    #: ``--accept-unverified-tokens``: a real provider's users are registered on first sight.
    register_unknown_users: bool = False

