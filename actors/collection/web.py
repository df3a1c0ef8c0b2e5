"""Web pages the brief names, read through the official fetch MCP server, behind an address check.

The fetch server (`mcp-server-fetch`, started over stdio by the broker) does the HTTP work: it
respects robots.txt, converts HTML to Markdown and cuts the page at `max_length`. Before any call,
`check_url` refuses hosts that resolve to private, loopback, link-local, multicast or reserved
addresses unless the operator's allow-list (`MKA_FETCH_ALLOW`) names the host. Public URLs go to the
fetch server as shipped, which checks every request and redirect hop itself and refuses private
addresses, so a public page cannot redirect inward. Only allow-listed hosts go to a second instance
started with `--allow-private-ips`; a redirect from such a trusted host is not checked again.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable, Collection
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from actors.collection.planner import PlannedCall
from actors.documents.convert import Converted
from actors.documents.evidence import Caps, document_evidence
from actors.mcp.broker import BrokerResult
from actors.mcp.uris import build_mcp_uri
from schemas import AgentError, Evidence

__all__ = ["SourceRefused", "check_url", "fetch_call", "page_evidence", "parse_allow"]

Resolver = Callable[[str], list[str]]

_PREFIX = re.compile(r"^Contents of \S+:\s*\n", re.IGNORECASE)
_TRUNCATED = re.compile(r"\n?<error>Content truncated\.[^<]*</error>\s*$")
_RAW = re.compile(r"Content type (\S+) cannot be simplified to markdown, but here is the raw content:\n")
_ERROR_ONLY = re.compile(r"<error>([^<]*)</error>")


class SourceRefused(AgentError):
    """A URL the address policy refuses (a private address not on the allow-list, a bad scheme)."""

    code = "source_refused"
    retryable = False


def parse_allow(text: str | Collection[str] | None) -> frozenset[str]:
    """The allow-list from `MKA_FETCH_ALLOW` (comma-separated hosts), lower-cased."""
    if not text:
        return frozenset()
    items = text.split(",") if isinstance(text, str) else list(text)
    return frozenset(item.strip().lower().strip("[]") for item in items if item.strip())


def _resolve(host: str) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise AgentError(f"cannot resolve {host!r}: {exc}", retryable=True) from exc
    return sorted({str(info[4][0]) for info in infos})


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast
                                 or ip.is_reserved or ip.is_unspecified)


def check_url(url: str, allow: Collection[str], *, resolve: Resolver = _resolve) -> None:
    """Refuse a URL whose host is not on the public internet, unless the allow-list names the host."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise SourceRefused(f"{url}: only http(s) URLs with a host are fetched")
    host = parts.hostname.lower()
    if host in allow:
        return
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        addresses = resolve(host)
    if not addresses:
        raise AgentError(f"cannot resolve {host!r}", retryable=True)
    blocked = [a for a in addresses if not _public(a)]
    if blocked:
        raise SourceRefused(f"{url}: {host} resolves to a non-public address ({blocked[0]}); refused unless the "
                            "operator allows the host in MKA_FETCH_ALLOW")


def fetch_call(server: str, url: str, max_chars: int) -> PlannedCall:
    """The fetch server's request for one page."""
    arguments: dict[str, Any] = {"url": url, "max_length": max_chars}
    return PlannedCall(server, build_mcp_uri(server, "fetch", arguments), "fetch", tuple(arguments.items()), "read")


def page_evidence(
    url: str, base_id: str, result: BrokerResult, *, retrieved_at: datetime, caps: Caps = Caps(),
) -> tuple[list[Evidence], list[str]]:
    """A fetched page as evidence: chunks (and table rows) cited by the page URL, plus warnings (truncation)."""
    text = _PREFIX.sub("", result.text or "", count=1)
    warnings = []
    raw = _RAW.match(text)
    if raw:  # not HTML: the server hands the body over as it came
        text = text[raw.end():]
    if _TRUNCATED.search(text):
        text = _TRUNCATED.sub("", text)
        warnings.append(f"{url}: the page was cut at {len(text):,} characters (MKA_FETCH_MAX_CHARS)")
    failure = _ERROR_ONLY.fullmatch(text.strip())
    if failure:  # the server's own complaint is no evidence
        raise AgentError(f"{url}: the fetch server could not read it: {failure.group(1)[:200]}", retryable=False)
    if not text.strip():
        raise AgentError(f"{url}: the page has no text", retryable=False)
    if raw and "csv" in raw.group(1).lower():  # a CSV page is a table: rows with their figures
        from actors.documents.convert import Limits, convert_document

        page = convert_document("page.csv", text.encode("utf-8"), Limits())
    else:
        page = Converted(name=urlsplit(url).netloc, doc_type="html", markdown=text)
    items, capped = document_evidence(page, base_id=base_id, source=url, source_type="web", retrieved_at=retrieved_at,
                                      caps=caps)
    return items, warnings + capped
