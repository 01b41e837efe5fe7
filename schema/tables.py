"""SQLModel definitions of the database tables that `dca build` writes.

The first six classes mirror the Table Schemas field by field (a test holds them
to the JSON: names, order, types, nullability, primary and foreign keys). The
rest are lookup tables precomputed at build time so that the API's hot paths are
single index range scans: the data only change with a new build, so any work that
can be done once is done then.
"""
from __future__ import annotations

import datetime as dt
from typing import Optional

from sqlmodel import Field, SQLModel

metadata = SQLModel.metadata


class Country(SQLModel, table=True):
    __tablename__ = "countries"
    iso3: str = Field(primary_key=True)
    iso2: str
    name: str
    iso_name: str
    cow_code: Optional[int] = None
    cow_abbr: Optional[str] = None
    region: Optional[str] = None
    subregion: Optional[str] = None


class Agreement(SQLModel, table=True):
    __tablename__ = "agreements"
    agreement_id: str = Field(primary_key=True)
    title: str
    agreement_type: str = Field(index=True)
    instrument: str = Field(index=True)
    signed_on: str = Field(index=True)
    signed_precision: str
    venue_city: Optional[str] = None
    venue_country_iso3: Optional[str] = Field(default=None, foreign_key="countries.iso3", index=True)
    status: str = Field(index=True)
    status_as_of: dt.date
    entry_into_force_on: Optional[str] = None
    end_on: Optional[str] = None
    summary: str
    notes: Optional[str] = None


class Party(SQLModel, table=True):
    __tablename__ = "parties"
    agreement_id: str = Field(primary_key=True, foreign_key="agreements.agreement_id")
    country_iso3: str = Field(primary_key=True, foreign_key="countries.iso3", index=True)
    signatory_name: Optional[str] = None
    signatory_title: Optional[str] = None


class Source(SQLModel, table=True):
    __tablename__ = "sources"
    source_id: str = Field(primary_key=True)
    agreement_id: str = Field(foreign_key="agreements.agreement_id", index=True)
    url: Optional[str] = None
    citation: Optional[str] = None
    title: str
    publisher: Optional[str] = None
    author: Optional[str] = None
    published_on: Optional[str] = None
    source_type: str
    supports: Optional[str] = None
    reprint_of: Optional[str] = Field(default=None, foreign_key="sources.source_id")


class Equipment(SQLModel, table=True):
    __tablename__ = "equipment"
    equipment_id: str = Field(primary_key=True)
    agreement_id: str = Field(foreign_key="agreements.agreement_id", index=True)
    designation: str
    category: str = Field(index=True)
    supplier_iso3: Optional[str] = Field(default=None, foreign_key="countries.iso3")
    recipient_iso3: Optional[str] = Field(default=None, foreign_key="countries.iso3")
    quantity: Optional[int] = None
    status: str
    non_party_reason: Optional[str] = None
    note: Optional[str] = None
    source_id: str = Field(foreign_key="sources.source_id")
    condition: Optional[str] = None
    value_amount: Optional[float] = None
    value_currency: Optional[str] = None
    value_year: Optional[int] = None


class StatusHistory(SQLModel, table=True):
    __tablename__ = "status_history"
    history_id: str = Field(primary_key=True)
    agreement_id: str = Field(foreign_key="agreements.agreement_id", index=True)
    equipment_id: Optional[str] = Field(default=None, foreign_key="equipment.equipment_id")
    status_on: str
    agreement_status: Optional[str] = None
    equipment_status: Optional[str] = None
    description: str
    source_id: str = Field(foreign_key="sources.source_id")


# The tables above mirror the Table Schemas; their order is the load order.
RESOURCE_TABLES: dict[str, type[SQLModel]] = {
    "countries": Country,
    "agreements": Agreement,
    "parties": Party,
    "sources": Source,
    "equipment": Equipment,
    "status_history": StatusHistory,
}


class PartyIndex(SQLModel, table=True):
    """Parties with the agreement's sort and filter columns copied in.

    With (country_iso3, signed_on, agreement_id) leading the primary key, a
    country's agreements in a date range, in date order, are one index range scan
    instead of a join plus a sort (0.4 ms instead of ~20 ms per page at 100k).
    """

    __tablename__ = "party_index"
    # The primary key is the table (no rowid, no second copy of the key in an autoindex).
    __table_args__ = {"sqlite_with_rowid": False}
    country_iso3: str = Field(primary_key=True)
    signed_on: str = Field(primary_key=True)
    agreement_id: str = Field(primary_key=True)
    agreement_type: str
    status: str


class DyadIndex(SQLModel, table=True):
    """Unordered pairs of parties (iso3_a < iso3_b) per agreement, for dyad filters."""

    __tablename__ = "dyad_index"
    __table_args__ = {"sqlite_with_rowid": False}
    iso3_a: str = Field(primary_key=True)
    iso3_b: str = Field(primary_key=True)
    signed_on: str = Field(primary_key=True)
    agreement_id: str = Field(primary_key=True)


class AgreementDoc(SQLModel, table=True):
    """Each agreement pre-serialised as JSON: its list item (with parties) and its full record, each stored
    as a zstd frame (scripts/doc_store.py).

    Only what the API serves: the pages sort and filter on party_index, dyad_index or
    agreements, and join here by agreement_id for the bytes."""

    __tablename__ = "agreement_docs"
    agreement_id: str = Field(primary_key=True)
    list_json: bytes  # zstd frames: scripts/doc_store.py
    detail_json: bytes


class CountrySummary(SQLModel, table=True):
    """Per-country counts and partners, computed once per build."""

    __tablename__ = "country_summary"
    iso3: str = Field(primary_key=True)
    agreement_count: int = Field(index=True)
    partner_count: int
    first_signed_on: Optional[str] = None
    last_signed_on: Optional[str] = None
    partners_json: str


class BuildMeta(SQLModel, table=True):
    """Facts about the build: version, time, content hash, counts, the descriptor."""

    __tablename__ = "build_meta"
    key: str = Field(primary_key=True)
    value: str
