"""The shapes a secret has wherever it stands (`sk-…`, `ghp_…`, JWTs, bot tokens, PEM blocks, `Bearer …`,
credentials in URLs, webhooks), and the checks some shapes need beyond their pattern."""

from __future__ import annotations

import base64
import binascii
import re

SHAPES: tuple[tuple[str, re.Pattern[str]], ...] = tuple((kind, re.compile(pattern, flags)) for kind, pattern, flags in (
    ("PEM block", r"-----BEGIN (?P<label>[A-Z0-9 ]+)-----(?P<v>.*?)-----END (?P=label)-----", re.S),
    ("PEM block without its END line", r"-----BEGIN [A-Z0-9 ]*(?:KEY|CERTIFICATE|KEY BLOCK)-----"
                                       r"(?P<v>(?:\\[nr]|[ \t\r\n]|[A-Za-z0-9+/=])+)", 0),
    ("Anthropic key", r"\bsk-ant-[A-Za-z0-9_-]{16,}", 0),
    ("OpenAI-style key", r"\bsk-[A-Za-z0-9_-]{16,}", 0),
    ("GitHub token", r"\bgh[pousr]_[A-Za-z0-9]{20,}", 0),
    ("GitHub fine-grained token", r"\bgithub_pat_[A-Za-z0-9_]{20,}", 0),
    ("GitLab token", r"\bglpat-[A-Za-z0-9_-]{20,}", 0),
    ("Slack token", r"\bxox[abprse]-[A-Za-z0-9-]{10,}", 0),
    ("Slack app token", r"\bxapp-[A-Za-z0-9-]{10,}", 0),
    ("Groq key", r"\bgsk_[A-Za-z0-9]{20,}", 0),
    ("Hugging Face token", r"\bhf_[A-Za-z0-9]{30,}", 0),
    ("npm token", r"\bnpm_[A-Za-z0-9]{30,}", 0),
    ("xAI key", r"\bxai-[A-Za-z0-9_-]{20,}", 0),
    ("AWS access key id", r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b", 0),
    ("Google API key", r"\bAIza[0-9A-Za-z_-]{35}", 0),
    ("Google OAuth token", r"\bya29\.[0-9A-Za-z_-]{20,}", 0),
    ("Stripe key", r"\b[rs]k_(?:live|test)_[A-Za-z0-9]{16,}", 0),
    ("JWT", r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}", 0),
    ("Discord bot token", r"(?<![A-Za-z0-9_.-])(?P<v>[A-Za-z0-9_-]{23,28}\.[A-Za-z0-9_-]{6,7}\.[A-Za-z0-9_-]{27,40})"
                          r"(?![A-Za-z0-9_.-])", 0),
    ("Telegram bot token", r"(?<![\w:])\d{8,10}:[A-Za-z0-9_-]{35}(?![\w-])", 0),
    ("Bearer token", r"(?i)\bbearer\s+(?P<v>[A-Za-z0-9._~+/=-]{8,})", 0),
    ("Authorization header", r"(?i)\b(?:proxy-)?authorization\\?[\"']?\s*[:=]\s*\\?[\"']?(?:basic|bearer|token|digest|"
                             r"negotiate|apikey)\s+(?P<v>[^\s\"'\\,;]{6,})", 0),
    ("Basic credentials", r"(?i)\bbasic\s+(?P<v>[A-Za-z0-9+/]{6,}={0,2})(?![A-Za-z0-9+/=])", 0),
    ("curl user:password", r"\bcurl\b[^\n|;&]*?\s(?:-u|--user)(?:\s+|=)[\"']?(?P<v>[^\s\"':]+:[^\s\"']+)", 0),
    ("URL credentials", r"\b[a-z][a-z0-9+.-]*://(?P<v>[^\s/@\"'\\<>]+)@", 0),
    ("Slack webhook", r"https://hooks\.slack\.com/services/(?P<v>[A-Za-z0-9/_-]+)", 0),
    ("Discord webhook", r"https://(?:discord|discordapp)\.com/api/webhooks/(?P<v>[A-Za-z0-9/_-]+)", 0),
))

# Some shape might match only where one of these does: texts without any skip the shapes (most strings of a
# transcript or a trajectory).
_SHAPE_HINT = re.compile(r"sk-|gh[pousr]_|github_pat_|glpat-|xox|xapp-|gsk_|hf_|npm_|xai-|AKIA|ASIA|AIza|ya29\.|"
                         r"[rs]k_|eyJ|-----BEGIN|(?i:bearer|basic|authorization|curl)|://|\d{8}:|"
                         r"[A-Za-z0-9_-]{23}\.[A-Za-z0-9_-]{6}")


def _b64(text: str) -> bytes | None:
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_" if "-" in text or "_" in text else None)
    except (binascii.Error, ValueError):
        return None


_VALID = {  # shapes that need more than a pattern to be what they say
    "Discord bot token": lambda v: (b := _b64(v.split(".")[0])) is not None and b.isdigit() and 15 <= len(b) <= 21,
    "Basic credentials": lambda v: (b := _b64(v)) is not None and b":" in b,
    "URL credentials": lambda v: ":" in v or len(v) >= 16,
}

# `Authorization: Basic …`, a value `Bearer …`: the scheme stays, the credential after it is the secret.
_AUTH_SCHEME = re.compile(r"^(basic|bearer|token|digest|negotiate|apikey)$", re.I)
_SCHEMED = re.compile(r"^(?P<scheme>basic|bearer|token|digest|negotiate|apikey)\s+(?P<v>\S+)$", re.I)
