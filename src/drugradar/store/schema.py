"""The database schema (SQLAlchemy Core). Alembic migrations in ``migrations/`` create it.

Two layers: what each source said (``source_release``, ``source_record``, ``record_change``,
``quarantine``) and the dictionary built from it (``drug`` and its facts). Every fact row carries
its provenance: ``source``, ``source_record_id``, ``source_date``, ``licence``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def provenance_columns() -> list[Column[Any]]:
    return [
        Column("source", String(40), nullable=False),
        Column("source_record_id", String(200), nullable=False),
        Column("source_date", Date),
        Column("licence", String(60), nullable=False),
    ]


source_release = Table(
    "source_release",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(40), nullable=False),
    Column("file_name", String(300), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("release_date", Date),
    Column("status", String(20), nullable=False),  # running, done, failed
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Column("n_records", Integer, nullable=False, default=0),
    Column("n_added", Integer, nullable=False, default=0),
    Column("n_changed", Integer, nullable=False, default=0),
    Column("n_removed", Integer, nullable=False, default=0),
    Column("n_quarantined", Integer, nullable=False, default=0),
    UniqueConstraint("source", "sha256", name="uq_source_release_source_sha256"),
)

source_record = Table(
    "source_record",
    metadata,
    Column("source", String(40), primary_key=True),
    Column("record_id", String(200), primary_key=True),
    Column("content_hash", String(40), nullable=False),
    Column("data", Text, nullable=False),  # JSON of the parsed record
    Column("source_date", Date),
    Column("licence", String(60), nullable=False),
    Column("first_release_id", Integer, ForeignKey("source_release.id"), nullable=False),
    Column("changed_release_id", Integer, ForeignKey("source_release.id"), nullable=False),
    Column("removed", Boolean, nullable=False, default=False),
)

record_change = Table(
    "record_change",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("release_id", Integer, ForeignKey("source_release.id"), nullable=False, index=True),
    Column("source", String(40), nullable=False),
    Column("record_id", String(200), nullable=False),
    Column("change", String(10), nullable=False),  # added, changed, removed
    Column("field", String(80)),
    Column("old_value", Text),
    Column("new_value", Text),
    Index("ix_record_change_source_record", "source", "record_id"),
)

quarantine = Table(
    "quarantine",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("release_id", Integer, ForeignKey("source_release.id"), nullable=False, index=True),
    Column("source", String(40), nullable=False),
    Column("file_name", String(300), nullable=False),
    Column("line", Integer),
    Column("record_id", String(200)),
    Column("field", String(80)),
    Column("reason", Text, nullable=False),
    Column("raw", Text),
)

drug = Table(
    "drug",
    metadata,
    Column("id", String(16), primary_key=True),
    Column("preferred_name", String(400), nullable=False),
    Column("modality", String(40), nullable=False),
    Column("modality_rule", String(200), nullable=False),
    Column("retired", Boolean, nullable=False, default=False),
    *provenance_columns(),
)

drug_xref = Table(
    "drug_xref",
    metadata,
    Column("drug_id", String(16), ForeignKey("drug.id"), primary_key=True),
    Column(
        "namespace", String(30), primary_key=True
    ),  # unii, drugbank, cas, chembl, drugcentral...
    Column("value", String(200), primary_key=True),
    Column("source", String(40), primary_key=True),
    Column("source_record_id", String(200), nullable=False),
    Column("source_date", Date),
    Column("licence", String(60), nullable=False),
    Index("ix_drug_xref_namespace_value", "namespace", "value"),
)

synonym = Table(
    "synonym",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("drug_id", String(16), ForeignKey("drug.id"), nullable=False, index=True),
    Column("name", String(1000), nullable=False),
    Column("norm_key", String(1000), nullable=False),
    Column("head_key", String(200)),  # first word's key, for official/INN multi-word names
    Column("alias_type", String(20), nullable=False),
    Column("form", String(40)),
    Column("combination", Boolean, nullable=False, default=False),
    *provenance_columns(),
    Index("ix_synonym_norm_key", "norm_key"),
    Index("ix_synonym_head_key", "head_key"),
)

salt_form = Table(
    "salt_form",
    metadata,
    Column("unii", String(20), primary_key=True),
    Column("drug_id", String(16), ForeignKey("drug.id"), nullable=False, index=True),
    Column("name", String(400), nullable=False),
    Column("stripped", String(200), nullable=False),
    *provenance_columns(),
)

target = Table(
    "target",
    metadata,
    Column("id", String(60), primary_key=True),
    Column("gene_symbol", String(60)),
    Column("uniprot", String(200)),
    Column("name", String(400)),
    Column("organism", String(200)),
)

drug_target = Table(
    "drug_target",
    metadata,
    Column("drug_id", String(16), ForeignKey("drug.id"), primary_key=True),
    Column("target_id", String(60), ForeignKey("target.id"), primary_key=True),
    Column("source", String(40), primary_key=True),
    Column("action_type", String(60)),
    Column("source_record_id", String(200), nullable=False),
    Column("source_date", Date),
    Column("licence", String(60), nullable=False),
    Index("ix_drug_target_target_id", "target_id"),
)

drug_indication = Table(
    "drug_indication",
    metadata,
    Column("drug_id", String(16), ForeignKey("drug.id"), primary_key=True),
    Column("name", String(400), primary_key=True),
    Column("source", String(40), primary_key=True),
    Column("umls_cui", String(20)),
    Column("snomed_id", String(30)),
    Column("doid", String(30)),
    Column("source_record_id", String(200), nullable=False),
    Column("source_date", Date),
    Column("licence", String(60), nullable=False),
)

drug_class = Table(
    "drug_class",
    metadata,
    Column("drug_id", String(16), ForeignKey("drug.id"), primary_key=True),
    Column("name", String(400), primary_key=True),
    Column("class_type", String(40), primary_key=True),
    Column("source", String(40), primary_key=True),
    Column("class_source_id", String(60)),
    Column("source_record_id", String(200), nullable=False),
    Column("source_date", Date),
    Column("licence", String(60), nullable=False),
)

meta = Table(
    "meta",
    metadata,
    Column("key", String(60), primary_key=True),
    Column("value", Text, nullable=False),
)
