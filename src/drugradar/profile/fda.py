"""FDA approvals, patents and exclusivities, from Drugs@FDA and the Orange Book.

Sources: ``fda_applications``, ``fda_products``, ``fda_marketing_status``, ``fda_submissions``
(``sources/drugsatfda.py``) and ``ob_patents``, ``ob_exclusivities`` (``sources/orange_book.py``).
Each kind has releases of its own, so its current records may be of another date than the others'
(submissions 2019-07, products 2023-04, applications 2025-09 in ``../shared/data``): they are
joined by application number, the typed id first (``NDA020702``) and the bare 6-digit number when
that misses (95 applications turned NDA -> BLA in 2020: ``NDA017016`` is now ``BLA017016``; a
few ANDAs became NDAs).

Rows:

- ``approval`` (agency FDA, country US): one per approved (AP -> ``approved``) or tentatively
  approved (TA -> ``tentative``) submission × active-ingredient drug of the application's
  products. ``kind`` original (ORIG) or supplement (SUPPL); ``date`` the status date; ``detail``
  the submission class and review priority (``Type 1 - New Molecular Entity; PRIORITY``; an
  UNKNOWN or N/A priority is left out of it, not out of the flags); ``product`` the application's
  brand names joined with "; "; ``ingredient`` the ingredient as the product names it
  (combination products split into their ingredients: one row per drug; an ingredient that names
  no drug is a row of its own with ``drug_id`` NULL); ``holder`` the application's sponsor,
  ``holder_key`` its ``org_key``; ``indication`` NULL (Drugs@FDA has none). ``application`` is
  the application's current id (the Applications table's newest type), the submission's own id
  when that table no longer lists it. Flags: ``appl_type``, ``marketing_status`` (the sorted
  statuses of the application's products), ``orphan``, ``review_priority``, ``submission``
  (``ORIG/1``). Provenance: the submission record.

  An application no submission record names (newer than the Submissions file) but with products
  (product or marketing-status records) gets one ``original`` row per drug, ``date`` NULL,
  status ``tentative`` when every product is "None (Tentative Approval)" else ``approved``, flag
  ``no_submission_record``; its provenance is its Applications record, else its first product
  (or marketing-status) record.

  Where the application has no current product, application or marketing-status record (it has left
  Drugs@FDA since the Submissions file), its last stored, now removed, records stand
  in, and the flags say ``removed_records``. Where it has no product record at all (newer than
  the Products file) the row's ``ingredient`` is ``''``, ``drug_id`` NULL and the flags say
  ``no_product_record``: the approval is kept, with no drug.
- ``patent`` / ``exclusivity``: one per Orange Book record × ingredient drug of its product
  (``application`` ``NDA020702``: the Orange Book's N -> NDA, A -> ANDA). A product the Products
  file lacks (a strength added later) takes the drugs of its application's other products; a
  record whose product names no known drug is one row with ``drug_id`` NULL. ``patent_no`` is
  written as the Orange Book writes it: ``6894051*PED`` is the pediatric extension of 6894051.

Ingredient names that resolve to no drug are kept in ``unlinked_name`` under ``fda_products``
(counted in product records).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection, select

from drugradar.dictionary.build import SourceRow
from drugradar.profile.common import (
    Link,
    Row,
    iso,
    keep_unlinked,
    link_names,
    prov,
    records,
    replace,
)
from drugradar.resolve import Resolver
from drugradar.resolve.orgs import org_key
from drugradar.sources.drugsatfda import MARKETING_STATUS
from drugradar.store.schema import approval, exclusivity, patent, source_record

APPLICATIONS = "fda_applications"
PRODUCTS = "fda_products"
MARKETING = "fda_marketing_status"
SUBMISSIONS = "fda_submissions"
PATENTS = "ob_patents"
EXCLUSIVITIES = "ob_exclusivities"
APPROVAL_SOURCES = (SUBMISSIONS, APPLICATIONS, PRODUCTS, MARKETING)  # an approval's provenance
STATUS = {"AP": "approved", "TA": "tentative"}
KIND = {"ORIG": "original", "SUPPL": "supplement"}
TENTATIVE = "None (Tentative Approval)"
_NOT_SAID = {"UNKNOWN", "N/A", "Unspecified"}  # left out of ``detail`` (kept in the flags)

Ingredient = tuple[str | None, str | None, str]  # (drug id, match kind, name as the source says)


def _removed_records(conn: Connection, source: str) -> Iterator[SourceRow]:
    """The source's records that its latest release no longer holds (their last version)."""
    sr = source_record.c
    rows = conn.execute(
        select(sr.record_id, sr.data, sr.source_date, sr.licence)
        .where(sr.source == source, sr.removed.is_(True))
        .order_by(sr.record_id)
    )
    for r in rows:
        yield SourceRow(source, r.record_id, orjson.loads(r.data), r.source_date, r.licence)


def _by_number(rows: Iterable[SourceRow]) -> dict[str, list[SourceRow]]:
    out: dict[str, list[SourceRow]] = defaultdict(list)
    for row in rows:
        out[str(row.data.get("appl_no") or "")].append(row)
    return out


def _typed(rows: list[SourceRow], appl_type: str) -> list[SourceRow]:
    """Those of ``rows`` of the same application type, else all (the type changed)."""
    same = [r for r in rows if r.data.get("appl_type") == appl_type]
    return same or rows


class _Source:
    """A Drugs@FDA source's records by application number: the current ones, and for numbers
    without any, the removed ones."""

    def __init__(self, conn: Connection, source: str) -> None:
        self.current = _by_number(records(conn, source))
        removed = _by_number(_removed_records(conn, source))
        self.removed = {no: rows for no, rows in removed.items() if no not in self.current}

    def get(self, appl_type: str, appl_no: str) -> tuple[list[SourceRow], bool]:
        """The application's records, and whether they are removed ones."""
        if appl_no in self.current:
            return _typed(self.current[appl_no], appl_type), False
        return _typed(self.removed.get(appl_no, []), appl_type), appl_no in self.removed

    def all_rows(self) -> Iterator[SourceRow]:
        for group in (self.current, self.removed):
            for rows in group.values():
                yield from rows


def _names(product: dict[str, Any]) -> list[str]:
    parts = product.get("active_ingredients") or [product.get("active_ingredient") or ""]
    return [p.strip() for p in parts if isinstance(p, str) and p.strip()]


def _ingredients(products: Iterable[SourceRow], links: dict[str, list[Link]]) -> list[Ingredient]:
    """One entry per drug the products' ingredients name, one per name that names none."""
    out: list[Ingredient] = []
    seen: set[str] = set()
    for name in sorted({n for p in products for n in _names(p.data)}):
        found = links.get(name, [])
        for link in found:
            if link.drug_id not in seen:
                seen.add(link.drug_id)
                out.append((link.drug_id, link.match_kind, name))
        if not found:
            out.append((None, None, name))
    return out


def _statuses(rows: Iterable[SourceRow]) -> list[str]:
    found: set[str] = set()
    for r in rows:
        if r.data.get("marketing_status"):
            found.add(str(r.data["marketing_status"]))
        for i in r.data.get("marketing_status_ids") or ():
            if i in MARKETING_STATUS and i != r.data.get("marketing_status_id"):
                found.add(MARKETING_STATUS[i])
    return sorted(found)


def _detail(sub: dict[str, Any]) -> str | None:
    parts = [sub.get("class_description") or sub.get("class_code"), sub.get("review_priority")]
    text = "; ".join(str(p) for p in parts if p and p not in _NOT_SAID)
    return text[:400] or None


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


@dataclass(slots=True)
class _Application:
    """What every approval row of one application shares."""

    columns: Row
    appl_type: str
    ingredients: list[Ingredient]
    statuses: list[str]
    removed: bool


class _Approvals:
    def __init__(
        self, apps: _Source, products: _Source, marketing: _Source, links: dict[str, list[Link]]
    ) -> None:
        self.apps, self.products, self.marketing, self.links = apps, products, marketing, links
        self.rows: list[Row] = []
        self._seen: dict[tuple[str, str], _Application] = {}

    def application(self, appl_type: str, appl_no: str) -> _Application:
        key = (appl_type, appl_no)
        if key not in self._seen:
            app, old_app = self.apps.get(appl_type, appl_no)
            products, old_products = self.products.get(appl_type, appl_no)
            marketing, old_marketing = self.marketing.get(appl_type, appl_no)
            sponsor = str(app[0].data.get("sponsor") or "").strip() if app else ""
            typed = str(app[0].data.get("appl_type")) if app else appl_type
            brands = {str(p.data.get("brand_name") or "").strip() for p in products} - {""}
            columns: Row = {
                "agency": "FDA",
                "country": "US",
                "application": f"{typed}{appl_no}",
                "product": "; ".join(sorted(brands))[:400] or None,
                "indication": None,
                "holder": sponsor[:400] or None,
                "holder_key": (org_key(sponsor)[:400] or None) if sponsor else None,
            }
            self._seen[key] = _Application(
                columns,
                typed,
                _ingredients(products, self.links),
                _statuses(marketing),
                old_app or old_products or old_marketing,
            )
        return self._seen[key]

    def _emit(self, app: _Application, flags: dict[str, Any], fact: Row) -> None:
        flags = {"appl_type": app.appl_type, "marketing_status": app.statuses, **flags}
        if app.removed:
            flags["removed_records"] = True
        ingredients = app.ingredients
        if not ingredients:
            flags["no_product_record"] = True
            ingredients = [(None, None, "")]
        text = _json(flags)
        for drug_id, kind, name in ingredients:
            self.rows.append(
                {
                    **app.columns,
                    **fact,
                    "drug_id": drug_id,
                    "match_kind": kind,
                    "ingredient": name[:400],
                    "flags": text,
                }
            )

    def submission(self, sub: SourceRow) -> None:
        d = sub.data
        app = self.application(str(d["appl_type"]), str(d["appl_no"]))
        flags = {
            "orphan": d.get("orphan"),
            "review_priority": d.get("review_priority"),
            "submission": f"{d['submission_type']}/{d['submission_no']}",
        }
        fact = {
            "kind": KIND[str(d["submission_type"])],
            "status": STATUS[str(d["status"])],
            "date": iso(d.get("status_date")),
            "detail": _detail(d),
            **prov(sub),
        }
        self._emit(app, flags, fact)

    def unsubmitted(self, appl_no: str) -> None:
        """The row(s) of an application with products that no submission record names."""
        origin = (
            self.apps.current.get(appl_no)
            or self.products.current.get(appl_no)
            or self.marketing.current[appl_no]
        )
        app = self.application(str(origin[0].data["appl_type"]), appl_no)
        tentative = bool(app.statuses) and all(s == TENTATIVE for s in app.statuses)
        flags = {
            "orphan": None,
            "review_priority": None,
            "submission": None,
            "no_submission_record": True,
        }
        fact = {
            "kind": "original",
            "status": "tentative" if tentative else "approved",
            "date": None,
            "detail": None,
            **prov(origin[0]),
        }
        self._emit(app, flags, fact)


def _orange_book(
    conn: Connection,
    source: str,
    products: _Source,
    links: dict[str, list[Link]],
    fields: Callable[[SourceRow], Row],
) -> tuple[list[Row], int]:
    """The rows of an Orange Book source, and how many records' product Drugs@FDA lacks."""
    out: list[Row] = []
    missing = 0
    for rec in records(conn, source):
        d = rec.data
        appl_type, appl_no, no = str(d["appl_type"]), str(d["appl_no"]), str(d["product_no"])
        rows, _ = products.get(appl_type, appl_no)
        own = [r for r in rows if r.data.get("product_no") == no]
        missing += not own
        drugs: list[str | None] = [i[0] for i in _ingredients(own or rows, links) if i[0]]
        base = {"application": f"{appl_type}{appl_no}", "product_no": no, **fields(rec)}
        base.update(prov(rec))
        out.extend({**base, "drug_id": drug_id} for drug_id in drugs or [None])
    return out, missing


def _patent_fields(rec: SourceRow) -> Row:
    d = rec.data
    written = rec.record_id.rsplit("/", 1)[-1]  # "6894051*PED" as the Orange Book writes it
    return {
        "patent_no": written[:40],
        "expires": iso(d.get("expires")),
        "drug_substance": d.get("drug_substance"),
        "drug_product": d.get("drug_product"),
        "use_codes": _json(d.get("use_codes") or []),
        "delisted": d.get("delisted"),
    }


def _exclusivity_fields(rec: SourceRow) -> Row:
    d = rec.data
    return {
        "code": str(d.get("code") or "")[:40],
        "kind": str(d.get("kind") or "")[:20],
        "expires": iso(d.get("expires")),
    }


def build(conn: Connection, resolver: Resolver) -> dict[str, int]:
    """Rebuild ``approval`` (its FDA rows), ``patent`` and ``exclusivity`` from the records."""
    products = _Source(conn, PRODUCTS)
    names = Counter(n for p in products.all_rows() for n in set(_names(p.data)))
    links = link_names(resolver, names)
    apps = _Source(conn, APPLICATIONS)
    marketing = _Source(conn, MARKETING)

    approvals = _Approvals(apps, products, marketing, links)
    submitted: set[str] = set()
    for sub in records(conn, SUBMISSIONS):
        submitted.add(str(sub.data["appl_no"]))
        if sub.data.get("status") in STATUS and sub.data.get("submission_type") in KIND:
            approvals.submission(sub)
    with_products = set(products.current) | set(marketing.current)
    for no in sorted(with_products - submitted):
        approvals.unsubmitted(no)

    patents, patents_missing = _orange_book(conn, PATENTS, products, links, _patent_fields)
    excls, excls_missing = _orange_book(conn, EXCLUSIVITIES, products, links, _exclusivity_fields)
    unlinked = Counter({n: c for n, c in names.items() if not links.get(n)})
    rows = approvals.rows
    return {
        "approval": replace(conn, approval, APPROVAL_SOURCES, rows),
        "approval_linked": sum(1 for r in rows if r["drug_id"] is not None),
        "approval_unsubmitted": sum(1 for r in rows if r["source"] != SUBMISSIONS),
        "patent": replace(conn, patent, (PATENTS,), patents),
        "patent_linked": sum(1 for r in patents if r["drug_id"] is not None),
        "patent_product_missing": patents_missing,
        "exclusivity": replace(conn, exclusivity, (EXCLUSIVITIES,), excls),
        "exclusivity_linked": sum(1 for r in excls if r["drug_id"] is not None),
        "exclusivity_product_missing": excls_missing,
        "unlinked": keep_unlinked(conn, PRODUCTS, unlinked),
    }
