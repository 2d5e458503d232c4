"""The one rule for URIs and object keys that arrive from outside.

Queue messages, Lambda events, manifests and payloads name objects; each such URI must resolve
inside the configured store it belongs to (checkpoints under ``runs_uri``, bundles under
``bundles_uri``, photos under ``raw_uri``) before anything is read or written:

    target = confine_uri(message["output_s3_prefix"], settings.bundles_uri,
                         what="output_s3_prefix", under="bundles")
    photo = confine_object(event_bucket, event_key, settings.raw_uri, what="upload")

Refused, with one :class:`~receipt_cloud.errors.UntrustedUriError` line each: another scheme or
bucket, a path outside the root (lexically, or through a symlink on a local disk), ``.``/``..``
or empty segments, backslashes, NUL and other control characters, percent-encoded dots, slashes,
backslashes or control characters (``file://`` URIs are decoded once when opened, so
``%2e%2e`` would become ``..``), relative local paths (they would depend on the worker's
working directory) and URIs longer than S3's key limit. Values are shown capped in the message.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from receipt_cloud.errors import InvalidUriError, UntrustedUriError
from receipt_cloud.objects._uri import local_path, parse_s3_uri, split_scheme
from receipt_dynamo.names import shown

MAX_URI_CHARS = 1024
"""Longest URI or key accepted (S3's key limit is 1024 bytes)."""
_LOCAL_SCHEMES = ("", "file")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Encoded '.', '/', '\' and control characters: no URI this system writes needs them (a space
# is %20, kept), and each one turns into a path trick once a file:// URI is decoded.
_ENCODED_TRICK = re.compile(r"%(?:2e|2f|5c|[01][0-9a-f]|7f)", re.IGNORECASE)


@dataclass(frozen=True)
class ConfinedUri:
    """A URI from outside that passed the rule."""

    uri: str
    """The URI as given; safe to open (``open_object_store``/``resolve_uri``)."""
    root: str
    """The store root it lies in."""
    key: str
    """Its key under ``root``: '/'-separated, never empty, no leading '/', may end in '/'."""


SHOWN_URI_CHARS = 300
"""How much of a refused URI its error repeats (real paths are long; hostile ones longer)."""


def _refuse(what: str, value: object, reason: str, root: str) -> UntrustedUriError:
    return UntrustedUriError(what, shown(value, SHOWN_URI_CHARS), reason, root)


def _text_problem(text: str) -> str | None:
    if len(text) > MAX_URI_CHARS:
        return f"it is {len(text)} characters long (at most {MAX_URI_CHARS})"
    if _CONTROL.search(text):
        return "it contains a control character (NUL, newline...)"
    if "\\" in text:
        return "it contains a backslash"
    if _ENCODED_TRICK.search(text):
        return "it percent-encodes a '.', '/', '\\' or control character"
    return None


def key_problem(key: str, *, prefix: bool = False) -> str | None:
    """Why ``key`` is not a safe object key (None when it is); ``prefix`` allows a final '/'."""
    if not key:
        return "it names no object under the root"
    problem = _text_problem(key)
    if problem:
        return problem
    if key.startswith("/"):
        return "it is absolute"
    parts = key.split("/")
    if prefix and len(parts) > 1 and parts[-1] == "":
        parts = parts[:-1]
    for part in parts:
        if part in (".", ".."):
            return f"it has a {part!r} segment"
        if not part:
            return "it has an empty segment ('//')"
    return None


def _under(key: str, under: str | None) -> str | None:
    if under is None:
        return None
    if not key.startswith(under.rstrip("/") + "/") or key.rstrip("/") == under.rstrip("/"):
        return f"it is not under {under.rstrip('/')}/ in that store"
    return None


def _s3_key(uri: str, root: str) -> tuple[str | None, str]:
    """(problem, key relative to the root) of an s3:// ``uri`` under an s3:// ``root``."""
    try:
        bucket, key = parse_s3_uri(uri)
    except InvalidUriError:
        return "it names no bucket", ""
    root_bucket, root_prefix = parse_s3_uri(root)
    if bucket != root_bucket:
        return f"it names bucket {shown(bucket)}, not this store's {root_bucket!r}", ""
    root_prefix = root_prefix.strip("/")
    if root_prefix:
        if not key.startswith(root_prefix + "/"):
            return f"it is not under the store's prefix {root_prefix}/", ""
        key = key[len(root_prefix) + 1 :]
    return None, key


def _inside(path: str, root: str) -> bool:
    return path.startswith(root.rstrip(os.sep) + os.sep)


def _local_key(uri: str, root: str) -> tuple[str | None, str]:
    """(problem, key relative to the root) of a local ``uri`` under a local ``root``."""
    scheme, rest = split_scheme(uri)
    if scheme == "" and not rest.startswith("/"):
        return "it is a relative path; send an absolute path or a file:/// URI", ""
    try:
        path = str(local_path(uri))
    except InvalidUriError as exc:
        return str(exc).split(";")[0], ""
    # The segments as written (and decoded): Path would quietly drop '.' and '//'.
    written = unquote(rest.partition("/")[2]) if scheme == "file" else rest.lstrip("/")
    problem = _text_problem(written) or key_problem(written, prefix=True)
    if problem:
        return problem, ""
    root_path = str(local_path(root))
    if not _inside(path, root_path):
        return "it is outside the store's directory", ""
    key = path[len(root_path.rstrip(os.sep)) + 1 :]
    if uri.endswith("/") and not key.endswith("/"):
        key += "/"
    problem = key_problem(key, prefix=True)
    if problem:
        return problem, key
    # realpath follows every symlink on the existing part of the path: a link planted inside
    # the root cannot carry a read or a write outside it.
    if not _inside(os.path.realpath(path), os.path.realpath(root_path)):
        return "it leaves the store's directory through a symlink", key
    return None, key


def confine_uri(
    uri: object, root: str, *, what: str = "URI", under: str | None = None
) -> ConfinedUri:
    """``uri`` (from outside) checked to lie inside the store rooted at ``root``, optionally
    below the key prefix ``under`` (``"bundles"``); raises :class:`UntrustedUriError`."""
    if not isinstance(uri, str) or not uri:
        raise _refuse(what, uri, "it is not a non-empty string", root)
    problem = _text_problem(uri)
    if problem:
        raise _refuse(what, uri, problem, root)
    scheme, _ = split_scheme(uri)
    root_scheme, _ = split_scheme(root)
    local = root_scheme in _LOCAL_SCHEMES
    if (scheme in _LOCAL_SCHEMES) != local or (not local and scheme != root_scheme):
        want = "a local path or file:///" if local else f"{root_scheme}://"
        raise _refuse(what, uri, f"its scheme is not this store's ({want})", root)
    problem, key = _local_key(uri, root) if local else _s3_key(uri, root)
    if problem is None and not local:
        problem = key_problem(key, prefix=True)
    problem = problem or _under(key, under)
    if problem:
        raise _refuse(what, uri, problem, root)
    return ConfinedUri(uri=uri, root=root, key=key)


def confine_object(bucket: object, key: object, root: str, *, what: str = "object") -> ConfinedUri:
    """An object named as ``(bucket, key)`` (an S3 event record; a local store names its root
    directory as the bucket) checked to be in the store rooted at ``root``."""
    if not isinstance(bucket, str) or not bucket or not isinstance(key, str):
        raise _refuse(what, (bucket, key), "its bucket and key must be non-empty strings", root)
    shown_as = f"{bucket.rstrip('/')}/{key}"
    problem = _text_problem(bucket) or key_problem(key)
    root_scheme, _ = split_scheme(root)
    if problem is None and root_scheme in _LOCAL_SCHEMES:
        if not bucket.startswith("/") or ".." in bucket.split("/"):
            problem = "its bucket is not this store's directory"
        elif Path(bucket) != local_path(root):
            problem = "it is in another directory than this store's"
        else:
            return confine_uri(str(Path(bucket) / key), root, what=what)
    if problem is None:
        root_bucket, _ = parse_s3_uri(root)
        if bucket != root_bucket:
            problem = f"it is in bucket {shown(bucket)}, not this store's {root_bucket!r}"
    if problem:
        raise _refuse(what, shown_as, problem, root)
    return confine_uri(f"{root_scheme}://{bucket}/{key}", root, what=what)
