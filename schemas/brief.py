"""The brief: what a user asks the system to research, validated at the boundary."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from urllib.parse import urlsplit

import pycountry
from babel import Locale, UnknownLocaleError
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from schemas._errors import InvalidBrief, problems_from
from schemas.figma import TEMPLATE_REF_PATTERN
from schemas.pii import PiiClass, pii_field

__all__ = [
    "Brief", "DocumentRef", "Product", "SourceRef", "parse_brief", "locale_id", "DOCUMENT_ID_PATTERN",
    "PROJECT_PATTERN", "REPORT_OUTPUTS",
]

# Projects become NATS subject tokens and object-store key prefixes: no dots, spaces or wildcards.
PROJECT_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,62}$"

ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Question = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=1000)]
OutputKind = Literal["pdf", "html", "markdown", "figma"]
ReportOutput = Literal["pdf", "html", "markdown"]
REPORT_OUTPUTS: tuple[ReportOutput, ...] = ("pdf", "html", "markdown")
MAX_LOCALES = 12
DOCUMENT_ID_PATTERN = r"^doc-[0-9a-f]{16}$"
MAX_SOURCES = 20


class Product(BaseModel):
    """The product the brief is about."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = pii_field(PiiClass.FREE_TEXT, min_length=1, max_length=200)
    description: str = pii_field(PiiClass.FREE_TEXT, "", max_length=4000)
    category: str = pii_field(PiiClass.FREE_TEXT, "", max_length=200)
    price: float | None = Field(default=None, ge=0)
    currency: str | None = Field(default=None, description="ISO 4217 code of `price`.")

    @field_validator("currency")
    @classmethod
    def _iso_currency(cls, value: str | None) -> str | None:
        if value is None:
            return None
        code = value.strip().upper()
        if pycountry.currencies.get(alpha_3=code) is None:
            raise ValueError(f"unknown ISO 4217 currency code {value!r}")
        return code


class DocumentRef(BaseModel):
    """A document the user uploaded (`POST /v1/documents` or `mka run --attach`), to read as evidence."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=DOCUMENT_ID_PATTERN, description="The id the upload returned.")
    required: bool = Field(default=False, description="When it cannot be read, the job is degraded.")

    @model_validator(mode="before")
    @classmethod
    def _from_id(cls, value: Any) -> Any:
        return {"id": value} if isinstance(value, str) else value


class SourceRef(BaseModel):
    """A web page the user trusts, read through the fetch MCP server."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=8, max_length=2000, description="http(s) URL of a page.")
    required: bool = Field(default=False, description="When it cannot be read, the job is degraded.")

    @model_validator(mode="before")
    @classmethod
    def _from_url(cls, value: Any) -> Any:
        return {"url": value} if isinstance(value, str) else value

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        text = value.strip()
        parts = urlsplit(text)
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname or any(c.isspace() for c in text):
            raise ValueError(f"not an http(s) URL with a host: {value!r}")
        if parts.username or parts.password:
            raise ValueError("a source URL must not carry credentials")
        return text


def _or_string(short: dict[str, Any]) -> Any:
    """JSON Schema: a list's items may also be given in their short form (an id, a URL), as the validators accept."""

    def extra(schema: dict[str, Any]) -> None:
        schema["items"] = {"anyOf": [schema["items"], short]}

    return extra


class Brief(BaseModel):
    """A marketing brief; every free-text field has a length limit.

    Example:
        >>> Brief.model_validate({"product": {"name": "Oat milk"}, "markets": ["de"],
        ...     "audience": "urban adults 25-40", "questions": ["How big is the market?"],
        ...     "locale": "de_DE"}).markets
        ['DE']
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    project: str = pii_field(PiiClass.NONE, "default", pattern=PROJECT_PATTERN)
    title: str = pii_field(PiiClass.FREE_TEXT, "", max_length=200)
    product: Product
    markets: list[str] = Field(min_length=1, max_length=30, description="ISO 3166-1 alpha-2 codes.")
    audience: str = pii_field(PiiClass.FREE_TEXT, min_length=3, max_length=2000)
    questions: list[Question] = pii_field(PiiClass.FREE_TEXT, min_length=1, max_length=20)
    competitors: list[ShortText] = pii_field(PiiClass.FREE_TEXT, default_factory=list, max_length=20)
    locale: str = Field(description="Report locale, e.g. en_US or de-DE.")
    locales: list[str] | Literal["auto"] | None = Field(
        default=None,
        description="Localized reports besides the base one: locales such as de_DE, or 'auto' for each market's "
        "default locale.",
    )
    outputs: list[OutputKind] = Field(
        default_factory=lambda: list[OutputKind](REPORT_OUTPUTS), min_length=1, max_length=4,
        description="Which exports to store: pdf, html (the page the PDF is rendered from), markdown (with the charts "
        "as SVG files beside it), figma.",
    )
    figma_template: str | None = Field(
        default=None, pattern=TEMPLATE_REF_PATTERN,
        description="The stored Figma template to fill when outputs include figma (`mka figma templates list`): "
        "TEMPLATE_ID, or TEMPLATE_ID@VERSION to pin a version.",
    )
    notes: str = pii_field(PiiClass.FREE_TEXT, "", max_length=8000)
    documents: list[DocumentRef] = Field(
        default_factory=list, max_length=MAX_SOURCES, description="Uploaded documents to read as evidence (ids, or "
        "{id, required}).", json_schema_extra=_or_string({"type": "string", "pattern": DOCUMENT_ID_PATTERN}),
    )
    sources: list[SourceRef] = Field(
        default_factory=list, max_length=MAX_SOURCES, description="Web pages to read as evidence (URLs, or "
        "{url, required}); private addresses only when the operator allows them (MKA_FETCH_ALLOW).",
        json_schema_extra=_or_string({"type": "string", "minLength": 8, "maxLength": 2000,
                                      "pattern": r"^[Hh][Tt][Tt][Pp][Ss]?://\S+$"}),
    )
    on_source_error: Literal["continue", "fail"] = Field(
        default="continue", description="When a document or page cannot be read: continue with the rest (a required "
        "one degrades the job) or fail the job."
    )

    @field_validator("markets")
    @classmethod
    def _iso_markets(cls, value: list[str]) -> list[str]:
        codes: list[str] = []
        bad: list[str] = []
        for raw in value:
            code = raw.strip().upper()
            if len(code) != 2 or pycountry.countries.get(alpha_2=code) is None:
                bad.append(raw)
            elif code not in codes:
                codes.append(code)
        if bad:
            raise ValueError(f"not ISO 3166-1 alpha-2 country codes: {', '.join(map(repr, bad))}")
        return codes

    @field_validator("locale")
    @classmethod
    def _babel_locale(cls, value: str) -> str:
        return locale_id(value)

    @field_validator("locales", mode="before")
    @classmethod
    def _babel_locales(cls, value: Any) -> Any:
        if value is None or (isinstance(value, str) and value.strip().lower() == "auto"):
            return None if value is None else "auto"
        if isinstance(value, str):
            raise ValueError("locales must be a list of locales such as [de_DE, fr_FR], or 'auto'")
        if not isinstance(value, list) or len(value) > MAX_LOCALES:
            raise ValueError(f"locales must be a list of at most {MAX_LOCALES} locales, or 'auto'")
        out: list[str] = []
        for item in value:
            code = locale_id(str(item))
            if code not in out:
                out.append(code)
        return out

    @field_validator("documents", "sources")
    @classmethod
    def _unique_refs(cls, value: list[Any]) -> list[Any]:
        """A repeated document or page is kept once (required if any mention says so)."""
        seen: dict[str, Any] = {}
        for ref in value:
            key = ref.id if isinstance(ref, DocumentRef) else ref.url
            if key in seen:
                seen[key].required = seen[key].required or ref.required
            else:
                seen[key] = ref
        return list(seen.values())

    @field_validator("questions", "competitors", "outputs")
    @classmethod
    def _no_duplicates(cls, value: list[str]) -> list[str]:
        seen: set[str] = set()
        out = []
        for item in value:
            if item.casefold() not in seen:
                seen.add(item.casefold())
                out.append(item)
        return out


def locale_id(value: str) -> str:
    """A locale identifier babel knows, in canonical case as written (de-de -> de_DE); ValueError otherwise."""
    text = value.strip()
    if not re.fullmatch(r"[A-Za-z]{2,3}([_-][A-Za-z0-9]{2,8})*", text):
        raise ValueError(f"not a locale identifier: {value!r}")
    try:
        Locale.parse(text.replace("-", "_"))
    except (UnknownLocaleError, ValueError) as exc:
        raise ValueError(f"unknown locale {value!r}") from exc
    # As written, in canonical case (zh-cn -> zh_CN): babel would add likely subtags (zh_Hans_CN).
    parts = re.split(r"[_-]", text)
    return "_".join([parts[0].lower()] + [p.title() if len(p) == 4 else p.upper() if len(p) <= 3 else p for p in parts[1:]])


def parse_brief(data: Any) -> Brief:
    """Validate raw brief data; raise `InvalidBrief` listing every bad field."""
    if not isinstance(data, dict):
        raise InvalidBrief([{"field": "brief", "message": "a brief must be a mapping of fields"}])
    try:
        brief = Brief.model_validate(data)
    except ValidationError as exc:
        raise InvalidBrief(problems_from(exc)) from None
    # At submit, not in the model: jobs stored before the Figma export existed may ask for figma without a template.
    if "figma" in brief.outputs and not brief.figma_template:
        raise InvalidBrief([{"field": "figma_template", "type": "value_error",
                             "message": "outputs include figma: name the template to fill (`mka figma templates list`)"}])
    return brief
