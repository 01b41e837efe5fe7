"""Response models, for the OpenAPI description only.

Handlers return pre-serialised JSON bytes (the build stores each agreement's JSON),
so these models are never instantiated per request; they document the shapes, and
the test suite (schemathesis) checks that responses conform to them.
"""
from __future__ import annotations

from typing import Any, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field

from . import vocab


def _d(resource: str, name: str) -> str:
    return vocab.describe(resource, name)


def _lit(resource: str, name: str):
    return Literal[tuple(vocab.enum(resource, name))]  # type: ignore[misc]


AgreementType = _lit("agreements", "agreement_type")
Instrument = _lit("agreements", "instrument")
AgreementStatus = _lit("agreements", "status")
Precision = _lit("agreements", "signed_precision")
EquipmentCategory = _lit("equipment", "category")
EquipmentStatus = _lit("equipment", "status")
SourceType = _lit("sources", "source_type")


class PartyRef(BaseModel):
    iso3: str = Field(description="ISO 3166-1 alpha-3 code of the state party.")
    name: Optional[str] = Field(description="The country's English short name.")
    cow_code: Optional[int] = Field(description="Correlates of War numeric code.")


class AgreementItem(BaseModel):
    """An agreement in a list. All fields are present unless `fields` selects some."""

    agreement_id: str = Field(None, description=_d("agreements", "agreement_id"))
    title: str = Field(None, description=_d("agreements", "title"))
    agreement_type: AgreementType = Field(None, description=_d("agreements", "agreement_type"))  # type: ignore[valid-type]
    instrument: Instrument = Field(None, description=_d("agreements", "instrument"))  # type: ignore[valid-type]
    signed_on: str = Field(None, description=_d("agreements", "signed_on"))
    signed_precision: Precision = Field(None, description=_d("agreements", "signed_precision"))  # type: ignore[valid-type]
    venue_city: Optional[str] = Field(None, description=_d("agreements", "venue_city"))
    venue_country_iso3: Optional[str] = Field(None, description=_d("agreements", "venue_country_iso3"))
    venue_country_name: Optional[str] = Field(None, description="English short name of the venue country.")
    venue_country_cow_code: Optional[int] = Field(None, description="Correlates of War code of the venue country.")
    status: AgreementStatus = Field(None, description=_d("agreements", "status"))  # type: ignore[valid-type]
    status_as_of: str = Field(None, description=_d("agreements", "status_as_of"))
    entry_into_force_on: Optional[str] = Field(None, description=_d("agreements", "entry_into_force_on"))
    end_on: Optional[str] = Field(None, description=_d("agreements", "end_on"))
    summary: str = Field(None, description=_d("agreements", "summary"))
    parties: list[PartyRef] = Field(None, description="The state parties, by ISO3 code.")
    party_names: Optional[str] = Field(None, description="Only when `fields` names it: the parties' names, ';'-separated "
                                       "in the order of parties (the CSV column).")
    party_cow_codes: Optional[str] = Field(None, description="Only when `fields` names it: the parties' COW codes, "
                                           "';'-separated in the order of parties, empty where none (the CSV column).")


class PartyDetail(PartyRef):
    signatory_name: Optional[str] = Field(description=_d("parties", "signatory_name"))
    signatory_title: Optional[str] = Field(description=_d("parties", "signatory_title"))
    cow_abbr: Optional[str] = Field(description="Correlates of War state abbreviation.")


class EquipmentItem(BaseModel):
    equipment_id: str = Field(description=_d("equipment", "equipment_id"))
    designation: str = Field(description=_d("equipment", "designation"))
    category: EquipmentCategory = Field(description=_d("equipment", "category"))  # type: ignore[valid-type]
    supplier_iso3: Optional[str] = Field(description=_d("equipment", "supplier_iso3"))
    supplier_cow_code: Optional[int] = Field(description="Correlates of War code of the supplier.")
    recipient_iso3: Optional[str] = Field(description=_d("equipment", "recipient_iso3"))
    recipient_cow_code: Optional[int] = Field(description="Correlates of War code of the recipient.")
    quantity: Optional[int] = Field(description=_d("equipment", "quantity"))
    status: EquipmentStatus = Field(description=_d("equipment", "status"))  # type: ignore[valid-type]
    non_party_reason: Optional[str] = Field(description=_d("equipment", "non_party_reason"))
    note: Optional[str] = Field(description=_d("equipment", "note"))
    source_id: str = Field(description=_d("equipment", "source_id"))
    condition: Optional[str] = Field(description=_d("equipment", "condition"))
    value_amount: Optional[float] = Field(description=_d("equipment", "value_amount"))
    value_currency: Optional[str] = Field(description=_d("equipment", "value_currency"))
    value_year: Optional[int] = Field(description=_d("equipment", "value_year"))


class SourceItem(BaseModel):
    source_id: str = Field(description=_d("sources", "source_id"))
    url: Optional[str] = Field(description=_d("sources", "url"))
    citation: Optional[str] = Field(description=_d("sources", "citation"))
    title: str = Field(description=_d("sources", "title"))
    publisher: Optional[str] = Field(description=_d("sources", "publisher"))
    author: Optional[str] = Field(description=_d("sources", "author"))
    published_on: Optional[str] = Field(description=_d("sources", "published_on"))
    source_type: SourceType = Field(description=_d("sources", "source_type"))  # type: ignore[valid-type]
    supports: Optional[str] = Field(description=_d("sources", "supports"))
    reprint_of: Optional[str] = Field(description=_d("sources", "reprint_of"))


class StatusStep(BaseModel):
    history_id: str = Field(description=_d("status_history", "history_id"))
    equipment_id: Optional[str] = Field(description=_d("status_history", "equipment_id"))
    status_on: str = Field(description=_d("status_history", "status_on"))
    agreement_status: Optional[str] = Field(description=_d("status_history", "agreement_status"))
    equipment_status: Optional[str] = Field(description=_d("status_history", "equipment_status"))
    description: str = Field(description=_d("status_history", "description"))
    source_id: str = Field(description=_d("status_history", "source_id"))


class AgreementDetail(BaseModel):
    agreement_id: str = Field(description=_d("agreements", "agreement_id"))
    title: str = Field(description=_d("agreements", "title"))
    agreement_type: AgreementType = Field(description=_d("agreements", "agreement_type"))  # type: ignore[valid-type]
    instrument: Instrument = Field(description=_d("agreements", "instrument"))  # type: ignore[valid-type]
    signed_on: str = Field(description=_d("agreements", "signed_on"))
    signed_precision: Precision = Field(description=_d("agreements", "signed_precision"))  # type: ignore[valid-type]
    venue_city: Optional[str] = Field(description=_d("agreements", "venue_city"))
    venue_country_iso3: Optional[str] = Field(description=_d("agreements", "venue_country_iso3"))
    venue_country_name: Optional[str] = Field(description="English short name of the venue country.")
    venue_country_cow_code: Optional[int] = Field(description="Correlates of War code of the venue country.")
    status: AgreementStatus = Field(description=_d("agreements", "status"))  # type: ignore[valid-type]
    status_as_of: str = Field(description=_d("agreements", "status_as_of"))
    entry_into_force_on: Optional[str] = Field(description=_d("agreements", "entry_into_force_on"))
    end_on: Optional[str] = Field(description=_d("agreements", "end_on"))
    summary: str = Field(description=_d("agreements", "summary"))
    notes: Optional[str] = Field(description=_d("agreements", "notes"))
    parties: list[PartyDetail]
    equipment: list[EquipmentItem]
    sources: list[SourceItem]
    status_history: list[StatusStep]


class Links(BaseModel):
    self: str = Field(description="This page.")
    first: str = Field(description="The first page of the same query.")
    next: Optional[str] = Field(description="The next page, or null on the last page.")


class _Page(BaseModel):
    count: int = Field(description="Items on this page.")
    total: int = Field(description="Items matching the query, on all pages.")
    # enum, not const, for "all": openapi-python-client 0.29 parses an integer | const union wrongly
    limit: Union[int, Literal["all"]] = Field(description="The page size asked for (`all`: every row, streamed).",
                                              json_schema_extra={"anyOf": [{"type": "integer"},
                                                                           {"type": "string", "enum": ["all"]}]})
    next_cursor: Optional[str] = Field(description="Cursor of the next page (null on the last page).")
    links: Links


class AgreementList(_Page):
    items: list[AgreementItem]


class EquipmentRow(BaseModel):
    """An equipment item. All fields are present unless `fields` selects some."""

    equipment_id: str = Field(None, description=_d("equipment", "equipment_id"))
    agreement_id: str = Field(None, description=_d("equipment", "agreement_id"))
    designation: str = Field(None, description=_d("equipment", "designation"))
    category: EquipmentCategory = Field(None, description=_d("equipment", "category"))  # type: ignore[valid-type]
    supplier_iso3: Optional[str] = Field(None, description=_d("equipment", "supplier_iso3"))
    supplier_cow_code: Optional[int] = Field(None, description="Correlates of War code of the supplier.")
    recipient_iso3: Optional[str] = Field(None, description=_d("equipment", "recipient_iso3"))
    recipient_cow_code: Optional[int] = Field(None, description="Correlates of War code of the recipient.")
    quantity: Optional[int] = Field(None, description=_d("equipment", "quantity"))
    status: EquipmentStatus = Field(None, description=_d("equipment", "status"))  # type: ignore[valid-type]
    non_party_reason: Optional[str] = Field(None, description=_d("equipment", "non_party_reason"))
    note: Optional[str] = Field(None, description=_d("equipment", "note"))
    source_id: str = Field(None, description=_d("equipment", "source_id"))
    condition: Optional[str] = Field(None, description=_d("equipment", "condition"))
    value_amount: Optional[float] = Field(None, description=_d("equipment", "value_amount"))
    value_currency: Optional[str] = Field(None, description=_d("equipment", "value_currency"))
    value_year: Optional[int] = Field(None, description=_d("equipment", "value_year"))


class EquipmentList(_Page):
    items: list[EquipmentRow]


class SourceRow(BaseModel):
    """A source. All fields are present unless `fields` selects some."""

    source_id: str = Field(None, description=_d("sources", "source_id"))
    agreement_id: str = Field(None, description=_d("sources", "agreement_id"))
    url: Optional[str] = Field(None, description=_d("sources", "url"))
    citation: Optional[str] = Field(None, description=_d("sources", "citation"))
    title: str = Field(None, description=_d("sources", "title"))
    publisher: Optional[str] = Field(None, description=_d("sources", "publisher"))
    author: Optional[str] = Field(None, description=_d("sources", "author"))
    published_on: Optional[str] = Field(None, description=_d("sources", "published_on"))
    source_type: SourceType = Field(None, description=_d("sources", "source_type"))  # type: ignore[valid-type]
    supports: Optional[str] = Field(None, description=_d("sources", "supports"))
    reprint_of: Optional[str] = Field(None, description=_d("sources", "reprint_of"))


class SourceList(_Page):
    items: list[SourceRow]


class CountryRow(BaseModel):
    """A country with its agreement counts. All fields are present unless `fields` selects some."""

    iso3: str = Field(None, description=_d("countries", "iso3"))
    iso2: str = Field(None, description=_d("countries", "iso2"))
    name: str = Field(None, description=_d("countries", "name"))
    iso_name: str = Field(None, description=_d("countries", "iso_name"))
    cow_code: Optional[int] = Field(None, description=_d("countries", "cow_code"))
    cow_abbr: Optional[str] = Field(None, description=_d("countries", "cow_abbr"))
    region: Optional[str] = Field(None, description=_d("countries", "region"))
    subregion: Optional[str] = Field(None, description=_d("countries", "subregion"))
    agreement_count: int = Field(None, description="Agreements the country is a party to.")
    partner_count: int = Field(None, description="Distinct states it has agreements with.")
    first_signed_on: Optional[str] = Field(None, description="Signing date of its first agreement.")
    last_signed_on: Optional[str] = Field(None, description="Signing date of its latest agreement.")


class CountryList(_Page):
    items: list[CountryRow]


class Partner(BaseModel):
    iso3: str
    name: Optional[str]
    cow_code: Optional[int] = Field(description="Correlates of War code.")
    agreements: int = Field(description="Agreements shared with this partner.")


class CountryDetail(BaseModel):
    iso3: str
    iso2: str
    name: str
    iso_name: str
    cow_code: Optional[int]
    cow_abbr: Optional[str]
    region: Optional[str]
    subregion: Optional[str]
    agreement_count: int
    partner_count: int
    first_signed_on: Optional[str]
    last_signed_on: Optional[str]
    partners: list[Partner] = Field(description="States it has agreements with, most shared agreements first.")
    links: dict[str, str] = Field(description="Related resources (its agreements, as JSON and CSV).")


class CountBy(BaseModel):
    key: str
    count: int


class CountryCount(BaseModel):
    iso3: str
    name: Optional[str]
    cow_code: Optional[int] = Field(description="Correlates of War code.")
    count: int


class Stats(BaseModel):
    total: int = Field(description="Agreements matching the filters.")
    by_year: list[CountBy] = Field(description="Agreements per year of signature (every year from the first to the last, zeros included).")
    by_type: list[CountBy] = Field(description="Agreements per agreement_type (every code of the vocabulary, zeros included).")
    by_status: list[CountBy] = Field(description="Agreements per status (every code of the vocabulary, zeros included).")
    by_country: list[CountryCount] = Field(description="Agreements per party country, most first.")
    filters: dict[str, Any] = Field(description="The filters applied, as given.")


class Warning_(BaseModel):
    model_config = ConfigDict(title="Warning")
    code: Literal["stale-build", "build-file-unservable"]
    message: str


class Meta(BaseModel):
    name: str
    title: str
    version: str = Field(description="Dataset version (datapackage.json).")
    api_version: str
    schema_version: str = Field(description="Database layout version.")
    built_at: str = Field(description="When `dca build` wrote the database (UTC, ISO 8601).")
    content_hash: str = Field(description="SHA-256 of the package's descriptor, schemas and data; ETags derive from it.")
    counts: dict[str, int] = Field(description="Rows per table.")
    licenses: list[dict[str, Any]]
    license: Optional[str] = Field(description="The licence's name (first of licenses).")
    citation: str = Field(description="How to cite this version of the dataset.")
    homepage: Optional[str]
    backend: Literal["sqlite", "postgresql"]
    warnings: list[Warning_] = Field(description="What a client should know about the build being served: "
                                     "`stale-build` (the dataset has changed since this build was made), "
                                     "`build-file-unservable` (the build file changed on disk and cannot be served; "
                                     "the last good snapshot is served). Empty when all is well.")


class DownloadFile(BaseModel):
    name: str
    path: str = Field(description="Path inside the build folder.")
    format: str
    mediatype: str
    bytes: int
    sha256: str
    url: str = Field(description="Where to download it.")


class Downloads(BaseModel):
    count: int
    files: list[DownloadFile]


class Health(BaseModel):
    status: Literal["ok", "degraded"] = Field(description="`ok`; `degraded` while the last good snapshot is served "
                                              "because the build file changed and cannot be served (see warnings).")
    version: str
    content_hash: str
    built_at: str
    warnings: list[Warning_]


class ProblemError(BaseModel):
    """One bad parameter of a 400 or 422 problem."""

    model_config = ConfigDict(title="ProblemError")
    parameter: str = Field(description="The query or path parameter.")
    message: str = Field(description="What is wrong with it, and what would be accepted.")
    value: Optional[Union[str, int, float]] = Field(None, description="The value given.")
    allowed: Optional[list[str]] = Field(None, description="The values that are accepted, where they are few.")


class ProblemModel(BaseModel):
    """RFC 9457 problem details: every error response of the API (400, 404, 405, 406, 422, 500, 503)."""

    model_config = ConfigDict(title="Problem")
    type: str = Field(description="urn:dca:problem:<kind>, e.g. urn:dca:problem:not-found.")
    title: str = Field(description="Short summary of the kind of problem.")
    status: int = Field(description="The HTTP status code.")
    detail: str = Field(description="What went wrong and how to fix it.")
    instance: Optional[str] = Field(None, description="The path of the request.")
    errors: Optional[list[ProblemError]] = Field(None, description="Each bad parameter, the value given and what is allowed.")


PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


def problem_components() -> dict[str, Any]:
    """Problem and ProblemError as OpenAPI components (referenced by every error response)."""
    schema = ProblemModel.model_json_schema(ref_template="#/components/schemas/{model}")
    defs = schema.pop("$defs", {})
    return {"Problem": schema, **defs}


def problem_doc(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/problem+json": {"schema": dict(PROBLEM_REF)}}}


_HEADERS = {
    "ETag": {"description": "Weak validator derived from the build's content hash and the request.", "schema": {"type": "string"}},
    "Cache-Control": {"description": "public, max-age=...", "schema": {"type": "string"}},
}
_LIST_HEADERS = {
    **_HEADERS,
    "X-Total-Count": {"description": "Rows matching the filters.", "schema": {"type": "string"}},
    "X-Row-Count": {"description": "Rows in this response (CSV/NDJSON: sent before the body, to check completeness).", "schema": {"type": "string"}},
    "Link": {"description": "RFC 8288 links: next (absent on the last page) and first.", "schema": {"type": "string"}},
}


def _unavailable() -> dict[str, Any]:
    doc = problem_doc("The database cannot be reached (a PostgreSQL outage) or no build can be served; "
                      "try again after `Retry-After` seconds.")
    doc["headers"] = {"Retry-After": {"description": "Seconds to wait before retrying.", "schema": {"type": "string"}}}
    return doc


def list_responses(name: str) -> dict[int | str, dict[str, Any]]:
    return {
        200: {
            "description": f"A page of {name} (JSON), or the rows as CSV / NDJSON.",
            "headers": _LIST_HEADERS,
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/x-ndjson": {"schema": {"type": "string"}},
            },
        },
        304: {"description": "Not modified (If-None-Match matched the ETag)."},
        400: problem_doc("Unknown query parameter, or a cursor that this query did not issue."),
        422: problem_doc("A parameter value is not valid; the problem names the allowed values."),
        503: _unavailable(),
    }


def one_responses(name: str) -> dict[int | str, dict[str, Any]]:
    return {
        200: {"description": f"The {name}.", "headers": _HEADERS},
        304: {"description": "Not modified (If-None-Match matched the ETag)."},
        400: problem_doc("Unknown query parameter."),
        404: problem_doc(f"No such {name}."),
        503: _unavailable(),
    }


def plain_responses() -> dict[int | str, dict[str, Any]]:
    return {
        200: {"description": "OK", "headers": _HEADERS},
        304: {"description": "Not modified (If-None-Match matched the ETag)."},
        400: problem_doc("Unknown query parameter."),
        503: _unavailable(),
    }


def _export_row(name: str, model: str):
    """A row model whose fields are the export's columns (scripts/export_columns.py), described as there."""
    from pydantic import create_model

    from scripts.export_columns import ALL_EXPORTS

    types = {"integer": int, "string": str}
    fields = {}
    for c in ALL_EXPORTS[name]:
        t = types[c.type]
        fields[c.name] = (Optional[t], Field(None, description=c.description or c.title))  # type: ignore[valid-type]
    return create_model(model, __doc__=f"A row of the researcher export {name}.csv. All fields are present "
                        "unless `fields` selects some.", **fields)


DyadRow = _export_row("dyads", "DyadRow")
DyadYearRow = _export_row("dyad_years", "DyadYearRow")


class DyadList(_Page):
    items: list[DyadRow]  # type: ignore[valid-type]


class DyadYearList(_Page):
    items: list[DyadYearRow]  # type: ignore[valid-type]
