"""Credentials never reach a log line: a logging filter that rewrites every record it handles.

botocore logs, at DEBUG, the request headers (``Authorization: AWS4-HMAC-SHA256 Credential=…,
Signature=…``, ``X-Amz-Security-Token``), the canonical request and string to sign; urllib3 logs
URLs, which for presigned requests carry ``X-Amz-Credential``/``X-Amz-Signature``/
``X-Amz-Security-Token``. :func:`redact` removes all of those, AWS access key ids (``AKIA…``,
``ASIA…``), session tokens by their shape, ``aws_secret_access_key = …`` style assignments, and
the literal values of the credential variables of the process environment (whatever shape a
test or a profile gives them). :class:`RedactingFilter` applies it to the whole rendered message
and to the traceback text, then hands the record on with no ``args`` left to re-render.

Stdlib only: the Lambda handlers, both CLIs and the workers install the same filter
(:mod:`receipt_cloud.log_levels`).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Mapping

REDACTED = "<redacted>"
CREDENTIAL_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                        "AWS_SECURITY_TOKEN")
"""Environment variables whose values are redacted wherever they appear."""
_MIN_LITERAL = 8
"""Shorter literal values are left alone: redacting a 4-letter word everywhere helps nobody."""

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # SigV4 Authorization header value: keep the scheme, drop credential scope and signature.
    (re.compile(r"(AWS4-HMAC-SHA256\s+)[^'\"\n]*"), rf"\1{REDACTED}"),
    # SigV2-style "Authorization: AWS AKID:signature".
    (re.compile(r"(\bAWS\s+)[A-Z0-9]{16,128}:[A-Za-z0-9+/=]{8,}"), rf"\1{REDACTED}"),
    # Query-string and header forms: X-Amz-Signature=, X-Amz-Credential=, X-Amz-Security-Token=,
    # Signature=, Credential=, x-amz-security-token: (canonical request), 'X-Amz-Security-Token':
    # b'…' (header dicts), SessionToken / SecretAccessKey / aws_secret_access_key assignments.
    (re.compile(
        r"(?i)(\b(?:x-amz-signature|x-amz-credential|x-amz-security-token|signature|credential"
        r"|aws_session_token|aws_security_token|aws_secret_access_key|secret_access_key"
        r"|secretaccesskey|sessiontoken|secret_key|session_token|security_token"
        r"|aws_access_key_id|access_key_id|accesskeyid|access_key|token)"
        r"['\"]?\s*[:=]\s*b?['\"]?)[^'\"&,\s)}\]]+"
    ), rf"\1{REDACTED}"),
    # XML bodies (STS, IMDS): <SecretAccessKey>…</SecretAccessKey>, <SessionToken>, <Token>.
    (re.compile(r"(?i)(<(SecretAccessKey|SessionToken|SecurityToken|Token|AccessKeyId)>)[^<]*"
                r"(</\2>)"), rf"\1{REDACTED}\3"),
    # Access key ids anywhere (long-term AKIA…, temporary ASIA…, and the other IAM id kinds).
    (re.compile(r"\b(?:AKIA|ASIA|AIDA|AROA|ABIA|ACCA)[A-Z0-9]{12,124}\b"), REDACTED),
    # STS session tokens by their shape (base64 of a protobuf-like blob).
    (re.compile(r"(?:IQoJb3JpZ2luX2V|FwoGZXIvYXdz|FQoGZXIvYXdz|AQoDYXdz|AgoJb3JpZ2lu)"
                r"[A-Za-z0-9/+=%]{16,}"), REDACTED),
    # The string to sign / signing key lines botocore.auth logs: hex digests after the label.
    (re.compile(r"(?im)^(\s*(?:Signature|StringToSign|Signing key)\s*:?\s*\n?)[0-9a-f]{64}$"),
     rf"\1{REDACTED}"),
)


def secret_literals(environ: Mapping[str, str] | None = None) -> list[str]:
    """The credential values of ``environ`` (default ``os.environ``) worth searching for."""
    environ = os.environ if environ is None else environ
    values = {environ.get(name, "") for name in CREDENTIAL_VARIABLES}
    return sorted((v for v in values if len(v) >= _MIN_LITERAL), key=len, reverse=True)


def redact(text: str, literals: Iterable[str] = ()) -> str:
    """``text`` with every credential-looking part replaced by ``<redacted>``."""
    for value in literals:
        if value in text:
            text = text.replace(value, REDACTED)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites each record to its redacted rendering (message and traceback); never drops one.

    Attached to handlers, so it sees records propagated from every logger (botocore's too)."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        super().__init__()
        self._environ = environ

    def filter(self, record: logging.LogRecord) -> bool:
        literals = secret_literals(self._environ)
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: log it unformatted, still redacted
            message = f"{record.msg} {record.args!r}"
        record.msg, record.args = redact(message, literals), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, literals)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, literals)
        return True


def install_redaction(handlers: Iterable[logging.Handler]) -> None:
    """Add one :class:`RedactingFilter` to each handler that has none yet."""
    for handler in handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
