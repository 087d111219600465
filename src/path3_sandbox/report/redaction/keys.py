"""Which keys name a secret (JSON keys, env var names, headers, SQLite columns), and what is not a secret even
under one (null, an env var NAME, `${VAR}`, an enum word, a SecretRef's fields, a JSON Schema's words)."""

from __future__ import annotations

import re
from functools import lru_cache

# A key names a secret when it ends so ("apiKey", "botToken", "X-Api-Key", "GITHUB_PAT", "AWS_SECRET_ACCESS_KEY"),
# not when it counts them ("maxTokens", "contextTokens"): suffixes are matched whole, case-insensitively.
SECRET_KEY_RE = re.compile(
    r"(token|secrets?|passwords?|passwd|passphrase|passcode|api[-_]?keys?|(secret|private|access|signing|encryption|"
    r"client|master|app|auth|hmac|service|bot|license|ingest|webhook)[-_]?key|pem|cookie|authorization|bearer|"
    r"credentials?|(^|[-_])(pat|pass|pwd)|dsn|database[-_]?url|webhook([-_]?url)?)$", re.I)
# An environment variable names a secret when one of its words does: OPENAI_KEY, DEEPGRAM_KEY, X_API_KEY_2, TOKEN_PROD.
_ENV_NAME = re.compile(r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*$")
# `botTokens: […]`, `tokens: {access: …}`: a plural holds tokens when it holds a list or an object (`maxTokens: 4096`
# is a count).
_TOKENS_RE = re.compile(r"tokens$", re.I)
_ENV_SECRET_WORDS = frozenset({"KEY", "APIKEY", "TOKEN", "SECRET", "SECRETS", "PASSWORD", "PASSWD", "PASS", "PWD", "PAT",
                               "CREDENTIAL", "CREDENTIALS", "DSN", "PASSPHRASE", "COOKIE", "WEBHOOK"})
# …unless its last word says it is about the secret, not the secret: TOKEN_COUNT, API_KEY_FILE, SECRET_NAME.
_ENV_ABOUT_WORDS = frozenset({"COUNT", "LIMIT", "MAX", "MIN", "TTL", "TIMEOUT", "EXPIRY", "EXPIRES", "LENGTH", "SIZE",
                              "FILE", "PATH", "DIR", "TYPE", "MODE", "NAME", "HEADER", "PREFIX", "FORMAT", "SOURCE",
                              "PROVIDER", "ENABLED", "REQUIRED"})
# In credential files (auth.json, auth-profiles.json, credentials/*.json), under a secret key and in credential
# tables, OAuth and stores keep their tokens under plain names.
CREDENTIAL_KEY_RE = re.compile(r"^(access|refresh|id_token|key|value|secret|current|previous|raw)$", re.I)
CREDENTIAL_FILE_RE = re.compile(r"(^|/)(auth(-profiles?)?|credentials?|secrets?|oauth)(\.[a-z0-9]+)*\.json5?$|(^|/)credentials/", re.I)
_CREDENTIAL_TABLE_RE = re.compile(r"auth|credential|secret|oauth|token|pairing|keys?$", re.I)
_NAMING_FIELDS = ("key", "name", "path", "header", "env", "variable", "var")  # {"key": "gateway.auth.token", …}
_VALUE_FIELDS = frozenset({"value", "before", "after", "default", "old", "new", "current", "previous"})


@lru_cache(maxsize=8192)
def is_secret_key(key: str) -> bool:
    """Whether a key (JSON key, env var, header, SQLite column) names a secret."""
    if _ENV_NAME.match(key):
        words = key.split("_")
        if len(words) > 1 and words[-1] in _ENV_ABOUT_WORDS:
            return False
        return bool(_ENV_SECRET_WORDS.intersection(words)) or bool(SECRET_KEY_RE.search(key))
    return bool(SECRET_KEY_RE.search(key))


# --- what is not a secret ------------------------------------------------------------------------------------------

_NOT_A_SECRET = re.compile(r"^(null|true|false|none|undefined|REDACTED(-[0-9a-f]+)?|\$\{[^}]*\}|\$[A-Z_][A-Z0-9_]*|"
                           r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+|__[A-Z0-9_]+__|<redacted>|\*+|)$")
_ENUM_WORD = re.compile(r"^[a-z][a-z_.:-]{0,23}$")  # `source: "env"`, `type: "oauth"`, `mode: "json"`
_PLAIN_WORD = re.compile(r"^[A-Za-z]+$")
_UUID_OR_DIGEST = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|^[0-9a-f]{16,}", re.I)
_JSON_TYPES = frozenset({"string", "number", "integer", "boolean", "object", "array", "null"})
_SCHEMA_WORDS = frozenset({"type", "description", "title", "format", "pattern", "$ref", "$schema"})
_SECRET_REF_SOURCES = frozenset({"env", "file", "exec"})
