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
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
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
    # A release that is one day of a series (a daily export of one query): the series' name and
    # the ids it held (zlib of newline-joined ids), so the next day can tell who left and came back.
    Column("scope", String(200)),
    Column("members", LargeBinary),
    UniqueConstraint("source", "sha256", name="uq_source_release_source_sha256"),
)

source_record = Table(
    "source_record",
    metadata,
    Column("source", String(40), primary_key=True),
    Column("record_id", String(200), primary_key=True),
    Column("content_hash", String(40), nullable=False),
    Column("data", Text, nullable=False),  # JSON of the parsed record
    Column("raw", Text),  # the record as the source wrote it, where it is not the data itself
    Column("raw_packed", LargeBinary),  # instead of ``raw`` when long (sources.base.pack_raw)
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
    Index("ix_synonym_norm_key_type", "norm_key", "alias_type"),  # covers the fuzzy index
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

# WHO ATC level-5 codes' defined daily doses, one row per route and dose (cimetidine: O, P)
atc_ddd = Table(
    "atc_ddd",
    metadata,
    Column("code", String(10), primary_key=True),
    Column("route", String(40), primary_key=True),  # adm_r: O, P, R, Inhal.powder… ("" none)
    Column("ddd", String(20), primary_key=True),
    Column("uom", String(20), primary_key=True),
    Column("note", Text),
    *provenance_columns(),
)

DICTIONARY_STAMP = "dictionary_stamp"  # meta key: new at every dictionary rebuild

meta = Table(
    "meta",
    metadata,
    Column("key", String(60), primary_key=True),
    Column("value", Text, nullable=False),
)

resolver_index = Table(  # the fuzzy index's keys laid out, kept with the dictionary
    "resolver_index",
    metadata,
    Column("name", String(60), primary_key=True),
    Column("stamp", String(60), nullable=False),  # meta's dictionary_stamp when built
    Column("max_synonym_id", Integer, nullable=False),
    Column("by_head", LargeBinary, nullable=False),  # keys by first letters (UTF-8 lines)
    Column("by_tail", LargeBinary, nullable=False),  # the keys by last letters
    Column("built_at", DateTime, nullable=False),
)

# -- diseases (MeSH), with the hierarchy as a closure table: "melanoma" covers its children ------

disease = Table(
    "disease",
    metadata,
    Column("id", String(20), primary_key=True),  # MeSH descriptor UI
    Column("name", String(400), nullable=False),
    Column("trees", Text, nullable=False),  # tree numbers joined by "|"
    *provenance_columns(),
)

disease_synonym = Table(
    "disease_synonym",
    metadata,
    Column("disease_id", String(20), ForeignKey("disease.id"), primary_key=True),
    Column("norm_key", String(400), primary_key=True),
    Column("name", String(400), nullable=False),
    Index("ix_disease_synonym_norm_key", "norm_key"),
)

disease_ancestor = Table(
    "disease_ancestor",
    metadata,
    Column("disease_id", String(20), ForeignKey("disease.id"), primary_key=True),
    Column("ancestor_id", String(20), ForeignKey("disease.id"), primary_key=True),
    Index("ix_disease_ancestor_ancestor_id", "ancestor_id"),
)


# -- clinical trials (ClinicalTrials.gov), rebuilt per trial from its current source record ----

trial = Table(
    "trial",
    metadata,
    Column("nct_id", String(11), primary_key=True),
    Column("brief_title", Text),
    Column("official_title", Text),
    Column("acronym", String(200)),
    Column("study_type", String(40)),
    Column("phases", String(100)),  # v2 phases joined by ",": "PHASE1,PHASE2"
    Column("phase", String(20)),  # on drugradar's scale: EARLY_PHASE_1, PHASE_1_2…, UNKNOWN
    Column("overall_status", String(60)),
    Column("why_stopped", Text),
    Column("start_date", String(10)),
    Column("start_date_type", String(10)),
    Column("primary_completion_date", String(10)),
    Column("primary_completion_date_type", String(10)),
    Column("completion_date", String(10)),
    Column("completion_date_type", String(10)),
    Column("first_posted", String(10)),
    Column("results_first_posted", String(10)),
    Column("last_update_posted", String(10)),
    Column("enrollment", Integer),
    Column("enrollment_type", String(10)),
    Column("has_results", Boolean, nullable=False, default=False),
    Column("source_format", String(10), nullable=False),
    *provenance_columns(),
)

trial_intervention = Table(
    "trial_intervention",
    metadata,
    Column("nct_id", String(11), ForeignKey("trial.nct_id"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("type", String(40)),
    Column("name", String(1000), nullable=False),
    Column("other_names", Text),  # JSON list
    Column("arm_groups", Text),  # JSON list of arm labels
    Column("role", String(20), nullable=False),  # investigational, comparator, background…
    Column("role_rule", String(200), nullable=False),
    Index("ix_trial_intervention_name", "name"),
)

trial_drug = Table(
    "trial_drug",
    metadata,
    Column("nct_id", String(11), ForeignKey("trial.nct_id"), primary_key=True),
    Column("position", Integer, primary_key=True),  # the intervention's position
    Column("drug_id", String(16), ForeignKey("drug.id"), primary_key=True),
    Column("role", String(20), nullable=False),
    Column("query", String(1000), nullable=False),  # the name that was resolved
    Column("matched_alias", String(1000), nullable=False),
    Column("alias_type", String(20), nullable=False),
    Column("match_kind", String(20), nullable=False),
    Column("score", Float, nullable=False),
    Index("ix_trial_drug_drug_id", "drug_id"),
)

trial_condition = Table(
    "trial_condition",
    metadata,
    Column("nct_id", String(11), ForeignKey("trial.nct_id"), primary_key=True),
    Column("kind", String(10), primary_key=True),  # condition, mesh, ancestor, keyword
    Column("term", String(1000), primary_key=True),
    Column("norm_key", String(1000), nullable=False),
    Column("mesh_id", String(20)),
    Column("disease_id", String(20)),  # the MeSH disease it maps to, when one does
    Index("ix_trial_condition_norm_key", "norm_key"),
)

trial_party = Table(
    "trial_party",
    metadata,
    Column("nct_id", String(11), ForeignKey("trial.nct_id"), primary_key=True),
    Column("role", String(12), primary_key=True),  # lead, collaborator
    Column("name", String(1000), primary_key=True),
    Column("norm_name", String(1000), nullable=False),
    Column("cls", String(20)),
    Column("parent_key", String(1000), nullable=False),  # the parent company (or itself)
    Column("parent_name", String(1000), nullable=False),
    Index("ix_trial_party_norm_name", "norm_name"),
    Index("ix_trial_party_parent_key", "parent_key"),
)

trial_country = Table(
    "trial_country",
    metadata,
    Column("nct_id", String(11), ForeignKey("trial.nct_id"), primary_key=True),
    Column("country", String(100), primary_key=True),
)


# -- the development-status matrix ---------------------------------------------------------------

dev_status = Table(
    "dev_status",
    metadata,
    Column("drug_id", String(16), ForeignKey("drug.id"), primary_key=True),
    Column("indication_key", String(400), primary_key=True),  # MeSH UI or "text:<key>"
    Column("country", String(100), primary_key=True),  # "" when unknown
    Column("org_key", String(400), primary_key=True),
    Column("indication_name", String(1000), nullable=False),
    Column("disease_id", String(20)),
    Column("org_name", String(1000), nullable=False),
    Column("org_parent_key", String(400), nullable=False),  # follow a company: its subsidiaries
    Column("org_parent_name", String(1000), nullable=False),
    Column("phase", String(20), nullable=False),
    Column("phase_since", Date),
    Column("activity", String(30), nullable=False),
    Column("activity_since", Date),
    Column("activity_rule", String(200), nullable=False),
    Column("sources", Text, nullable=False),  # JSON list of source record ids
    Column("source", String(40), nullable=False),
    Column("as_of", Date, nullable=False),
    Index("ix_dev_status_disease_id", "disease_id"),
    Index("ix_dev_status_org_key", "org_key"),
    Index("ix_dev_status_org_parent_key", "org_parent_key"),
)


# -- the profile: regulators, labels, interactions (built from their source records) ----------
# ``drug_id`` is NULL where the source's name (an active ingredient, an INN) did not resolve; the
# name as the source gives it is kept beside it, so an unresolved fact is never lost.

approval = Table(
    "approval",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("drug_id", String(16), ForeignKey("drug.id")),
    Column("ingredient", String(400), nullable=False),  # the name the source gives
    Column("match_kind", String(20)),
    Column("agency", String(10), nullable=False),  # FDA, EMA
    Column("country", String(10), nullable=False),  # US, EU
    Column("application", String(40), nullable=False),  # NDA020702, EMEA/H/C/000481
    Column("product", String(400)),  # brand / medicine name
    Column("kind", String(30), nullable=False),  # original, supplement, authorisation
    Column("status", String(40), nullable=False),  # approved, tentative, authorised, withdrawn…
    Column("date", Date),
    Column("detail", String(400)),  # submission class, review priority
    Column("indication", Text),
    Column("holder", String(400)),
    Column("holder_key", String(400)),
    Column("flags", Text, nullable=False),  # JSON: orphan, atmp, conditional, biosimilar…
    *provenance_columns(),
    Index("ix_approval_drug_id", "drug_id"),
    Index("ix_approval_application", "application"),
    Index("ix_approval_source_record", "source", "source_record_id"),  # an event's drugs
)

patent = Table(
    "patent",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("drug_id", String(16), ForeignKey("drug.id")),
    Column("application", String(40), nullable=False),
    Column("product_no", String(10), nullable=False),
    Column("patent_no", String(40), nullable=False),
    Column("expires", Date),
    Column("drug_substance", Boolean),
    Column("drug_product", Boolean),
    Column("use_codes", Text, nullable=False),  # JSON list
    Column("delisted", Boolean),
    *provenance_columns(),
    Index("ix_patent_drug_id", "drug_id"),
    Index("ix_patent_source_record", "source", "source_record_id"),  # an event's drugs
)

exclusivity = Table(
    "exclusivity",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("drug_id", String(16), ForeignKey("drug.id")),
    Column("application", String(40), nullable=False),
    Column("product_no", String(10), nullable=False),
    Column("code", String(40), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("expires", Date),
    *provenance_columns(),
    Index("ix_exclusivity_drug_id", "drug_id"),
    Index("ix_exclusivity_source_record", "source", "source_record_id"),  # an event's drugs
)

designation = Table(
    "designation",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("drug_id", String(16), ForeignKey("drug.id")),
    Column("substance", String(1000), nullable=False),
    Column("agency", String(10), nullable=False),
    Column("kind", String(30), nullable=False),  # orphan
    Column("number", String(60)),
    Column("product", String(400)),
    Column("condition", Text),
    Column("status", String(60)),
    Column("date", Date),
    Column("url", String(400)),
    *provenance_columns(),
    Index("ix_designation_drug_id", "drug_id"),
    Index("ix_designation_source_record", "source", "source_record_id"),  # an event's drugs
)

safety_communication = Table(
    "safety_communication",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("drug_id", String(16), ForeignKey("drug.id")),
    Column("substance", String(1000), nullable=False),
    Column("agency", String(10), nullable=False),
    Column("kind", String(30), nullable=False),  # dhpc, referral, psusa, shortage
    Column("title", Text),
    Column("outcome", Text),
    Column("date", Date),
    Column("url", String(400)),
    *provenance_columns(),
    Index("ix_safety_communication_drug_id", "drug_id"),
    Index("ix_safety_communication_source_record", "source", "source_record_id"),
)

label = Table(
    "label",
    metadata,
    Column("id", String(200), primary_key=True),  # the source record id (an SPL set id…)
    Column("set_id", String(80)),
    Column("version", String(20)),
    Column("effective_date", Date),
    Column("title", Text),
    Column("labeler", String(400)),
    Column("brand_names", Text, nullable=False),  # JSON lists
    Column("routes", Text, nullable=False),
    Column("partial", Boolean, nullable=False),
    *provenance_columns(),
)

label_section = Table(
    "label_section",
    metadata,
    Column("label_id", String(200), ForeignKey("label.id"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("key", String(80), nullable=False),
    Column("code", String(20)),
    Column("title", Text),
    Column("level", Integer, nullable=False),
    Column("parent_code", String(20)),
    Column("text", Text, nullable=False),
    Index("ix_label_section_key", "key"),
)

label_drug = Table(
    "label_drug",
    metadata,
    Column("label_id", String(200), ForeignKey("label.id"), primary_key=True),
    Column("drug_id", String(16), ForeignKey("drug.id"), primary_key=True),
    Column("name", String(1000), nullable=False),  # the label's name that resolved
    Column("match_kind", String(20), nullable=False),
    Index("ix_label_drug_drug_id", "drug_id"),
)

interaction = Table(
    "interaction",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("drug_a", String(16), ForeignKey("drug.id"), nullable=False),  # drug_a < drug_b
    Column("drug_b", String(16), ForeignKey("drug.id"), nullable=False),
    Column("name_a", String(400), nullable=False),  # as the source names them
    Column("name_b", String(400), nullable=False),
    Column("level", String(20), nullable=False),  # contraindicated, major, moderate, minor…
    Column("severity", String(200)),  # the source's own word
    Column("mechanism", Text),
    Column("management", Text),
    Column("lang", String(5)),
    *provenance_columns(),
    Index("ix_interaction_drug_a", "drug_a"),
    Index("ix_interaction_drug_b", "drug_b"),
)

unlinked_name = Table(
    "unlinked_name",
    metadata,
    Column("source", String(40), primary_key=True),
    Column("name", String(1000), primary_key=True),
    Column("records", Integer, nullable=False),  # how many of the source's records name it
)


# -- change tracking: typed events, each with the sightings that show it and what it concerns ---

event = Table(
    "event",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(40), nullable=False),  # sha1 of family, type, entity, field, new value
    Column("family", String(30), nullable=False),
    Column("type", String(40), nullable=False),
    Column("entity_kind", String(30), nullable=False),
    Column("entity_id", String(1000), nullable=False),
    Column("field", String(80), nullable=False),  # "" for whole-entity events
    Column("old_value", Text),  # JSON
    Column("new_value", Text),  # JSON
    Column("days_shifted", Integer),
    Column("materiality", String(10), nullable=False),
    Column("baseline", Boolean, nullable=False),
    Column("summary", Text, nullable=False),
    Column("as_of", Date, nullable=False),  # the snapshot that first showed it
    Column("event_date", Date),  # the date the source gives for it, when it gives one
    Column("first_seen_at", DateTime(timezone=True), nullable=False),
    Column("release_id", Integer, ForeignKey("source_release.id")),
    Column("hints", Text),  # JSON: concern hints not yet resolved to drugs (names, applications)
    Column("concerns_done", Boolean, nullable=False),
    Index("ix_event_entity", "entity_kind", "entity_id", "field"),
    Index("ix_event_as_of", "as_of"),
    Index("ix_event_release_id", "release_id"),
    Index("ix_event_pending", "concerns_done"),
)

event_source = Table(
    "event_source",
    metadata,
    Column("event_id", Integer, ForeignKey("event.id"), primary_key=True),
    Column("source", String(40), primary_key=True),
    Column("record_id", String(200), primary_key=True),
    Column("release_id", Integer, ForeignKey("source_release.id"), primary_key=True),
    Column("as_of", Date),
    Index("ix_event_source_release_id", "release_id"),
)

event_concern = Table(
    "event_concern",
    metadata,
    Column("event_id", Integer, ForeignKey("event.id"), primary_key=True),
    Column("kind", String(20), primary_key=True),  # drug, disease, organization, target
    Column("ref", String(400), primary_key=True),
    Index("ix_event_concern_ref", "kind", "ref"),
)


# -- alerts: users, API keys, subscriptions and what they follow, the outbox ----------------

user_account = Table(
    "user_account",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("password_hash", String(200), nullable=False),  # argon2id
    Column("role", String(10), nullable=False),  # user, admin
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("disabled", Boolean, nullable=False, default=False),
)

api_key = Table(
    "api_key",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("user_account.id"), nullable=False, index=True),
    Column("prefix", String(16), nullable=False, unique=True),  # shown, to tell keys apart
    Column("key_hash", String(200), nullable=False),  # the key itself is shown once, never kept
    Column("name", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_used_at", DateTime(timezone=True)),
    Column("revoked_at", DateTime(timezone=True)),
)

subscription = Table(
    "subscription",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("user_account.id"), nullable=False, index=True),
    Column("name", String(400), nullable=False),
    Column("search", Text),  # JSON filters of a saved search
    Column("families", Text, nullable=False),  # JSON list; empty: all
    Column("types", Text, nullable=False),  # JSON list of "family.type"; empty: all
    Column("min_materiality", String(10), nullable=False),
    Column("frequency", String(10), nullable=False),  # immediate, daily, weekly
    Column("hour", Integer, nullable=False),
    Column("weekday", Integer, nullable=False),
    Column("tz", String(60), nullable=False),
    Column("channels", Text, nullable=False),  # JSON: emails, webhook_url, inbox, feed, apprise
    Column("send_empty", Boolean, nullable=False),
    Column("paused", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_digest_at", DateTime(timezone=True)),
    Column("feed_secret", String(64), unique=True),
    Column("webhook_secret", String(64)),
    Column("deleted", Boolean, nullable=False, default=False),
)

subscription_follow = Table(
    "subscription_follow",
    metadata,
    Column("subscription_id", Integer, ForeignKey("subscription.id"), primary_key=True),
    Column("kind", String(20), primary_key=True),  # drug, target, disease, organization, search
    Column("ref", String(400), primary_key=True),
    Column("label", String(400), nullable=False),
    Column("alias", String(400)),
    Index("ix_subscription_follow_ref", "kind", "ref"),  # event concern -> subscriptions
)

# The matcher's index: one row per (followed thing, wanted family and type) of a subscription,
# with what the match needs (its user; ``floor``, the minimum materiality rank, 0 while paused or
# deleted), so an event's concerns reach their subscriptions through this index alone. Family ""
# takes every event; type "" every type of the family. The JSON columns of ``subscription`` stay
# the record of what the user asked for.
subscription_key = Table(
    "subscription_key",
    metadata,
    Column("subscription_id", Integer, ForeignKey("subscription.id"), primary_key=True),
    Column("kind", String(20), primary_key=True),
    Column("ref", String(400), primary_key=True),
    Column("family", String(30), primary_key=True),
    Column("type", String(40), primary_key=True),
    Column("user_id", Integer, nullable=False),
    Column("floor", Integer, nullable=False),
    Index(
        "ix_subscription_key_match",
        "kind",
        "ref",
        "family",
        "type",
        "floor",
        "subscription_id",
        "user_id",
    ),
)

subscription_channel = Table(
    "subscription_channel",
    metadata,
    Column("subscription_id", Integer, ForeignKey("subscription.id"), primary_key=True),
    Column("channel", String(10), primary_key=True),
)

search_member = Table(
    "search_member",
    metadata,
    Column("subscription_id", Integer, ForeignKey("subscription.id"), primary_key=True),
    Column("drug_id", String(16), ForeignKey("drug.id"), primary_key=True),
)

delivery = Table(
    "delivery",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    # No foreign keys on these three: outbox rows are made only by the matcher, from rows that
    # exist (users, subscriptions and events are never deleted), and checking three parents per
    # row was 60 % of the cost of writing a million-row batch.
    Column("user_id", Integer, nullable=False),
    Column("subscription_id", Integer, nullable=False),
    Column("event_id", Integer, nullable=False),
    Column("channel", String(10), nullable=False),
    Column("status", String(10), nullable=False),  # pending, sent, failed
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True)),
    Column("read_at", DateTime(timezone=True)),  # the in-app inbox's unread marker
    Column("digest_id", Integer, ForeignKey("digest.id")),
    UniqueConstraint("user_id", "event_id", "channel", name="uq_delivery_user_event_channel"),
    Index("ix_delivery_pending", "subscription_id", "channel", "status"),
)  # a user's rows: the unique key's leading user_id

digest = Table(
    "digest",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("user_account.id"), nullable=False),
    Column("subscription_id", Integer, ForeignKey("subscription.id"), nullable=False),
    Column("channel", String(10), nullable=False),
    Column("period_end", DateTime(timezone=True), nullable=False),  # the schedule slot it serves
    Column("idempotency_key", String(80), nullable=False, unique=True),
    Column("status", String(10), nullable=False),  # pending, sent, failed
    Column("n_items", Integer, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", DateTime(timezone=True)),
    Column("last_error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True)),
    Index("ix_digest_status", "status", "next_attempt_at"),
)
