"""FDA drug labels as SPL (Structured Product Labeling) XML: one complete label per document.

An SPL document (HL7 v3, namespace ``urn:hl7-org:v3``) is one version of a label: its ``setId``
names the label across versions, ``id`` this document, ``versionNumber`` and ``effectiveTime``
when it took effect. The product data section lists the products it covers (NDC product code,
brand name, generic name, dosage form, route, active ingredients with UNII codes, application
number); every other section carries a LOINC code (see ``label_sections``), a title and text,
and sections nest (``1 INDICATIONS AND USAGE`` > ``1.1 Rheumatoid Arthritis``).

Files: ``*.xml`` (or ``*.xml.gz``), or zip archives of them as DailyMed ships them (a label's
zip holds its XML and images; the bulk "full release" zips hold one such zip per label): members
are streamed, never unpacked. The sample here: ``fda/labels/spl_xml_openfda_tests/`` (Humira,
Lipitor, a Lipitor repackager's label, a children's cough syrup; from FDA/openfda's tests).
Live download: https://dailymed.nlm.nih.gov/dailymed/spl-resources-all-drug-labels.cfm and one
label at https://dailymed.nlm.nih.gov/dailymed/services/v2/spls/{setid}.xml

One ``Record`` per set id (``record_id`` = the set id, lower case), ``as_of`` = its effective
date. If a release holds several versions of one set id, the highest version that reads is
kept and the others are rejected (field ``versionNumber``). A release is a folder of SPL files,
dated by its name, else its ``SOURCE`` note, else its newest label's effective time; it is not a
snapshot (a label missing from a folder is not withdrawn). ``data`` (the label shape shared
with ``openfda_labels``):

- ``source``: ``"spl"``; ``partial``: False (the whole label);
- ``set_id``, ``document_id`` (lower-case UUIDs), ``version`` (int), ``effective_time`` (verbatim,
  ``'20130930'``), ``effective_date`` (``'2013-09-30'``);
- ``document_type`` (``'HUMAN PRESCRIPTION DRUG LABEL'``, ``'HUMAN OTC DRUG LABEL'``…), ``title``;
- ``labeler``: the organisation that published it; ``labeler_duns``;
- ``brand_names``, ``generic_names``, ``dosage_forms``, ``routes``, ``product_ndcs``,
  ``application_numbers`` (``'NDA020702'``, ``'BLA125057'``, ``'PART341'`` for an OTC monograph;
  upper case), ``marketing_categories`` (``'NDA'``, ``'BLA'``, ``'OTC monograph final'``),
  ``uniis``: sorted, distinct;
- ``active_ingredients``: ``[{"name", "unii", "moiety", "moiety_unii"}]`` sorted;
- ``products``: per product ``{"ndc", "name", "generic_name", "dosage_form", "routes",
  "active_ingredients": [{"name", "unii", "moiety", "moiety_unii", "strength"}],
  "application_numbers", "marketing_categories", "parts": [same, without "ndc" and "parts"]}``
  (a kit's parts: Humira's pen and its alcohol swabs), sorted by NDC;
- ``sections``: in document order, ``{"key", "code", "name", "title", "level", "parent_code",
  "text"}``: our key, the LOINC code and the display name the document gives it, the title,
  the depth (1 = top), the parent section's code and the section's own text (its subsections
  are the entries that follow with a higher level; ``label_sections.section_text`` joins them).
  Text is plain: paragraphs separated by blank lines, one list item a line, table rows as
  tab-separated cells. The product data section (no text) and highlights excerpts are left out;
- ``section_keys``: the distinct keys, sorted; ``openfda``: None (openFDA's extra fields).

Routes, application numbers and marketing categories come from the products and kit parts
that have an active ingredient, so a kit's alcohol swab (topical, OTC monograph) does not make
Humira a topical drug; when no product has one, from all of them.
"""

from __future__ import annotations

import gzip
import io
import re
import zipfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import date
from pathlib import Path
from typing import IO, Any, cast

from lxml import etree

from drugradar.sources import label_sections as ls
from drugradar.sources.base import JSONDict, Parsed, Record, Rejected, SourceSpec, date_in_name

NS = "urn:hl7-org:v3"
_V = {"v": NS}
NDC_SYSTEM = "2.16.840.1.113883.6.69"
UNII_SYSTEM = "2.16.840.1.113883.4.9"
PRODUCT_DATA_CODE = "48780-1"
ACTIVE_CLASSES = frozenset({"ACTIB", "ACTIM", "ACTIR"})
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_TIME = re.compile(r"^(\d{4})(\d{2})(\d{2})")
_PARSER_OPTS: dict[str, Any] = {
    "resolve_entities": False,
    "no_network": True,
    "remove_comments": True,
    "remove_pis": True,
    "huge_tree": True,
}
XmlSource = Callable[[], AbstractContextManager[IO[bytes]]]


# ---------------------------------------------------------------- the shared label shape


def label_data(
    source: str, *, partial: bool, extra: JSONDict | None = None, **fields: Any
) -> JSONDict:
    """A label record's ``data`` with every key of the shared shape, defaults filled in;
    ``extra`` adds a source's own keys (``adverse_events``, ``truncated``…)."""
    data: JSONDict = {
        "source": source,
        "partial": partial,
        "set_id": None,
        "document_id": None,
        "version": None,
        "effective_time": None,
        "effective_date": None,
        "document_type": None,
        "title": None,
        "labeler": None,
        "labeler_duns": None,
        "brand_names": [],
        "generic_names": [],
        "dosage_forms": [],
        "routes": [],
        "product_ndcs": [],
        "application_numbers": [],
        "marketing_categories": [],
        "uniis": [],
        "active_ingredients": [],
        "products": [],
        "sections": [],
        "section_keys": [],
        "openfda": None,
    }
    unknown = set(fields) - set(data)
    if unknown:
        raise TypeError(f"not a label field: {sorted(unknown)}")
    data.update(fields)
    data.update(extra or {})
    data["section_keys"] = sorted({s["key"] for s in data["sections"]})
    return data


def effective_date(value: str | None) -> date | None:
    """``'20130930'`` (or ``'20130930120000'``) -> 2013-09-30; None when it is not a date."""
    m = _TIME.match((value or "").strip())
    if not m:
        return None
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def is_uuid(value: str | None) -> bool:
    return bool(value and _UUID.match(value))


def distinct(values: Any) -> list[str]:
    """Sorted distinct non-empty strings (stripped)."""
    return sorted({v.strip() for v in values if isinstance(v, str) and v.strip()})


def source_file_date(folder: Path) -> date | None:
    """The date in a ``SOURCE`` note beside the data (``owner/repo <commit> 2026-04-28``)."""
    note = folder / "SOURCE"
    if not note.is_file():
        return None
    m = re.search(r"(?<!\d)(\d{4}-\d{2}-\d{2})(?!\d)", note.read_text("utf-8", "replace"))
    try:
        return date.fromisoformat(m.group(1)) if m else None
    except ValueError:
        return None


# ---------------------------------------------------------------- text


def _local(el: Any) -> str:
    tag = el.tag
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _clean(text: str) -> str:
    """Collapse each line's whitespace (XML indentation); drop empty lines."""
    lines = (" ".join(line.split()) for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


_SPACES = re.compile(r"\s+")


def _ws(text: str | None) -> str:
    """Source whitespace (line breaks of the XML included) is one space; only ``<br/>`` and
    blocks break lines."""
    return _SPACES.sub(" ", text) if text else ""


def _inline(el: Any) -> str:
    """An element's text with its inline markup dropped; ``<br/>`` is a line break and a
    footnote goes in brackets where it is referenced."""
    out = [_ws(el.text)]
    for child in el:
        tag = _local(child)
        if tag == "br":
            out.append("\n")
        elif tag in ("paragraph", "list", "table"):
            out.append("\n" + "\n".join(_blocks(child)) + "\n")
        elif tag == "footnote":
            out.append(_foot(child))
        elif tag and tag != "renderMultiMedia":
            out.append(_inline(child))
        out.append(_ws(child.tail))
    return "".join(out)


def _foot(el: Any) -> str:
    return f" [{' '.join(_inline(el).split())}]"


def _blocks(el: Any) -> list[str]:
    """The blocks of a text element: paragraphs, lists (an item a line) and tables."""
    out: list[str] = []
    buf: list[str] = [_ws(el.text)]

    def flush() -> None:
        text = _clean("".join(buf))
        buf.clear()
        if text:
            out.append(text)

    for child in el:
        tag = _local(child)
        if tag == "paragraph":
            flush()
            out.extend(_blocks(child))
        elif tag == "list":
            flush()
            out.append(_list(child))
        elif tag == "table":
            flush()
            out.append(_table(child))
        elif tag == "br":
            buf.append("\n")
        elif tag and tag != "renderMultiMedia":
            buf.append(_foot(child) if tag == "footnote" else _inline(child))
        buf.append(_ws(child.tail))
    flush()
    return [b for b in out if b]


def _list(el: Any) -> str:
    lines = []
    for child in el:
        tag = _local(child)
        if tag == "caption":
            lines.append(_clean(_inline(child)))
        elif tag == "item":
            lines.append("\n".join(_blocks(child)))
    return "\n".join(line for line in lines if line)


def _cell(el: Any) -> str:
    return " ".join(" ".join(_blocks(el)).split())


def _table(el: Any) -> str:
    lines = []
    for child in el:
        tag = _local(child)
        if tag == "caption":
            lines.append(_cell(child))
        rows = [child] if tag == "tr" else child.findall("v:tr", _V) if tag in _ROWS else []
        for tr in rows:
            cells = [_cell(td) for td in tr if _local(td) in ("td", "th")]
            if any(cells):
                lines.append("\t".join(cells))
    return "\n".join(line for line in lines if line)


_ROWS = ("thead", "tbody", "tfoot")


def render_text(el: Any | None) -> str:
    """Plain text of an SPL ``<text>``: blank lines between paragraphs, lines for list items,
    tab-separated rows for tables."""
    return "\n\n".join(_blocks(el)) if el is not None else ""


def _title(el: Any | None) -> str | None:
    if el is None:
        return None
    return " ".join(_inline(el).split()) or None


# ---------------------------------------------------------------- products


def _attr(el: Any | None, path: str, name: str) -> str | None:
    found = el.find(path, _V) if el is not None else None
    value = found.get(name) if found is not None else None
    return value.strip() if isinstance(value, str) and value.strip() else None


def _name(el: Any | None) -> str | None:
    """A product name with its suffix (``TRIAMINIC`` + ``Childrens Night Time…``)."""
    if el is None:
        return None
    return " ".join(" ".join(s.split()) for s in el.itertext() if s.strip()) or None


def _strength(ing: Any) -> str | None:
    num, den = ing.find("v:quantity/v:numerator", _V), ing.find("v:quantity/v:denominator", _V)
    if num is None or not num.get("value"):
        return None
    text = f"{num.get('value')} {num.get('unit') or ''}".strip()
    if (
        den is not None
        and den.get("value")
        and not (den.get("value") == "1" and den.get("unit") in (None, "1"))
    ):
        text += f"/{den.get('value')} {den.get('unit') or ''}".rstrip()
    return text


def _unii(substance: Any | None) -> str | None:
    """The substance's code when it is a UNII (code system 2.16.840.1.113883.4.9)."""
    code = substance.find("v:code", _V) if substance is not None else None
    if code is None or code.get("codeSystem") not in (UNII_SYSTEM, None):
        return None
    value = (code.get("code") or "").strip()
    return value or None


def _actives(product: Any) -> list[JSONDict]:
    """Active ingredients of one product or part: the SPL r4+ ``ingredient`` with an active
    class code, and the older ``activeIngredient`` element."""
    found = []
    for ing in product.findall("v:ingredient", _V) + product.findall("v:activeIngredient", _V):
        if _local(ing) == "ingredient" and ing.get("classCode") not in ACTIVE_CLASSES:
            continue
        sub = ing.find("v:ingredientSubstance", _V)
        if sub is None:
            sub = ing.find("v:activeIngredientSubstance", _V)
        if sub is None:
            continue
        moiety = sub.find("v:activeMoiety/v:activeMoiety", _V)
        found.append(
            {
                "name": _name(sub.find("v:name", _V)),
                "unii": _unii(sub),
                "moiety": _name(moiety.find("v:name", _V)) if moiety is not None else None,
                "moiety_unii": _unii(moiety),
                "strength": _strength(ing),
            }
        )
    return sorted(found, key=lambda a: [str(v) for v in a.values()])


def _unit(product: Any, holder: Any) -> JSONDict:
    """One product (or kit part): what it is from ``product``, route and approval from
    ``holder`` (the element around it)."""
    approvals = holder.findall("v:subjectOf/v:approval", _V)
    return {
        "name": _name(product.find("v:name", _V)),
        "generic_name": _name(product.find("v:asEntityWithGeneric/v:genericMedicine/v:name", _V)),
        "dosage_form": _attr(product, "v:formCode", "displayName"),
        "routes": distinct(
            r.get("displayName")
            for r in holder.findall("v:consumedIn/v:substanceAdministration/v:routeCode", _V)
        ),
        "active_ingredients": _actives(product),
        "application_numbers": distinct(_attr(a, "v:id", "extension") for a in approvals),
        "marketing_categories": distinct(_attr(a, "v:code", "displayName") for a in approvals),
    }


def _products(root: Any) -> list[JSONDict]:
    out = []
    for outer in root.iterfind(".//v:subject/v:manufacturedProduct", _V):
        inner = outer.find("v:manufacturedProduct", _V)
        if inner is None:
            inner = outer.find("v:manufacturedMedicine", _V)  # SPL before release 4
        if inner is None:
            continue
        code = inner.find("v:code", _V)
        ndc = (
            code.get("code") if code is not None and code.get("codeSystem") == NDC_SYSTEM else None
        )
        parts = [
            _unit(p.find("v:partProduct", _V), p)
            for p in inner.findall("v:part", _V)
            if p.find("v:partProduct", _V) is not None
        ]
        out.append({"ndc": ndc, **_unit(inner, outer), "parts": parts})
    return sorted(out, key=lambda p: (p["ndc"] or "", p["name"] or ""))


def _summary(products: list[JSONDict]) -> JSONDict:
    """Document-level lists from the products (routes etc. from medicinal units only)."""
    units = [u for p in products for u in (p, *p["parts"])]
    medicinal = [u for u in units if u["active_ingredients"]] or units
    actives = {
        (a["name"], a["unii"], a["moiety"], a["moiety_unii"])
        for u in units
        for a in u["active_ingredients"]
    }
    return {
        "brand_names": distinct(p["name"] for p in products),
        "generic_names": distinct(p["generic_name"] for p in products),
        "dosage_forms": distinct(p["dosage_form"] for p in products),
        "routes": distinct(r for u in medicinal for r in u["routes"]),
        "product_ndcs": distinct(p["ndc"] for p in products),
        "application_numbers": distinct(
            a.upper() for u in medicinal for a in u["application_numbers"]
        ),
        "marketing_categories": distinct(m for u in medicinal for m in u["marketing_categories"]),
        "uniis": distinct(a[1] for a in actives),
        "active_ingredients": [
            {"name": n, "unii": u, "moiety": m, "moiety_unii": mu}
            for n, u, m, mu in sorted(actives, key=lambda a: [str(v) for v in a])
        ],
    }


# ---------------------------------------------------------------- sections


def _sections(body: Any | None) -> list[JSONDict]:
    out: list[JSONDict] = []

    def walk(parent: Any, level: int, parent_code: str | None) -> None:
        for sec in parent.iterfind("v:component/v:section", _V):
            code_el = sec.find("v:code", _V)
            code = code_el.get("code") if code_el is not None else None
            name = code_el.get("displayName") if code_el is not None else None
            title = _title(sec.find("v:title", _V))
            text = render_text(sec.find("v:text", _V))
            has_sub = sec.find("v:component/v:section", _V) is not None
            keep = code != PRODUCT_DATA_CODE and bool(title or text or has_sub)
            if keep:
                out.append(
                    {
                        "key": ls.key_for_code(code, name),
                        "code": code,
                        "name": name,
                        "title": title,
                        "level": level,
                        "parent_code": parent_code,
                        "text": text,
                    }
                )
            walk(sec, level + 1 if keep else level, code if keep else parent_code)

    if body is not None:
        walk(body, 1, None)
    return out


# ---------------------------------------------------------------- one document


def _rejected(name: str, reason: str, field: str | None = None, rid: str | None = None) -> Rejected:
    return Rejected(name, None, reason, field=field, record_id=rid)


def read_document(fh: IO[bytes], name: str) -> Record | Rejected:
    """One SPL document as a ``Record``, or ``Rejected`` naming what is wrong with it."""
    try:
        root = etree.parse(fh, etree.XMLParser(**_PARSER_OPTS)).getroot()
    except etree.XMLSyntaxError as exc:
        line = exc.position[0] if exc.position else None
        return Rejected(name, line, f"not well-formed XML: {exc.msg}")
    except OSError as exc:
        return _rejected(name, f"file could not be read: {exc}")
    if root.tag != f"{{{NS}}}document":
        return _rejected(name, f"root element is <{root.tag}>, not an HL7 v3 SPL <document>")
    set_id = _attr(root, "v:setId", "root")
    if not is_uuid(set_id):
        return _rejected(name, f"missing or malformed set id {set_id!r}", "setId")
    assert set_id is not None
    set_id = set_id.lower()
    raw_version = _attr(root, "v:versionNumber", "value")
    if raw_version is None or not raw_version.isdigit():
        return _rejected(
            name, f"missing or malformed version {raw_version!r}", "versionNumber", set_id
        )
    raw_time = _attr(root, "v:effectiveTime", "value")
    when = effective_date(raw_time)
    if when is None:
        return _rejected(
            name, f"missing or malformed effective time {raw_time!r}", "effectiveTime", set_id
        )
    doc_id = _attr(root, "v:id", "root")
    org = root.find("v:author/v:assignedEntity/v:representedOrganization", _V)
    products = _products(root)
    data = label_data(
        "spl",
        partial=False,
        set_id=set_id,
        document_id=doc_id.lower() if doc_id and is_uuid(doc_id) else doc_id,
        version=int(raw_version),
        effective_time=raw_time,
        effective_date=when.isoformat(),
        document_type=_attr(root, "v:code", "displayName"),
        title=_title(root.find("v:title", _V)),
        labeler=_name(org.find("v:name", _V)) if org is not None else None,
        labeler_duns=_attr(org, "v:id", "extension"),
        products=products,
        sections=_sections(root.find("v:component/v:structuredBody", _V)),
        **_summary(products),
    )
    return Record(set_id, data, as_of=when)


def peek(fh: IO[bytes]) -> tuple[str | None, int | None, date | None]:
    """``(set id, version, effective date)`` from a document's header, without reading it all."""
    set_id: str | None = None
    version: int | None = None
    when: date | None = None
    depth = 0
    try:
        for event, el in etree.iterparse(fh, events=("start", "end"), **_PARSER_OPTS):
            depth += 1 if event == "start" else -1
            if event != "start" or depth != 2:
                continue
            tag = _local(el)
            if tag == "setId":
                set_id = (el.get("root") or "").lower() or None
            elif tag == "versionNumber":
                value = el.get("value") or ""
                version = int(value) if value.isdigit() else None
            elif tag == "effectiveTime":
                when = effective_date(el.get("value"))
            elif tag in ("author", "component"):
                break
    except (etree.XMLSyntaxError, OSError):
        pass
    return set_id, version, when


# ---------------------------------------------------------------- files


def _member_sources(zf_path: Path) -> Iterator[tuple[str, XmlSource]]:
    """``(name, opener)`` for every XML in a zip, and in the zips inside it (DailyMed bulk)."""
    with zipfile.ZipFile(zf_path) as zf:
        names = sorted(zf.namelist())
    for member in names:
        low = member.lower()
        if low.endswith(".xml"):
            yield f"{zf_path.name}:{member}", _zip_opener(zf_path, member, None)
        elif low.endswith(".zip"):
            with zipfile.ZipFile(zf_path) as zf, zf.open(member) as fh:
                inner = sorted(zipfile.ZipFile(io.BytesIO(fh.read())).namelist())
            for sub in inner:
                if sub.lower().endswith(".xml"):
                    yield f"{zf_path.name}:{member}:{sub}", _zip_opener(zf_path, member, sub)


def _zip_opener(path: Path, member: str, sub: str | None) -> XmlSource:
    @contextmanager
    def opener() -> Iterator[IO[bytes]]:
        with zipfile.ZipFile(path) as zf, zf.open(member) as fh:
            if sub is None:
                yield fh
                return
            with zipfile.ZipFile(io.BytesIO(fh.read())) as inner, inner.open(sub) as sfh:
                yield sfh

    return opener


def _file_opener(path: Path) -> XmlSource:
    @contextmanager
    def opener() -> Iterator[IO[bytes]]:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as gz:
                yield cast(IO[bytes], gz)
        else:
            with path.open("rb") as fh:
                yield fh

    return opener


def spl_files(folder: Path) -> list[Path]:
    """The SPL files directly in a folder: ``*.xml``, ``*.xml.gz`` and ``*spl*.zip``."""
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file()
        and (
            p.name.lower().endswith((".xml", ".xml.gz"))
            or (p.suffix.lower() == ".zip" and "spl" in p.name.lower())
        )
    )


def documents(paths: Sequence[Path]) -> Iterator[tuple[str, XmlSource]]:
    """``(name, opener)`` for every SPL document in the paths (files, zips or folders)."""
    for path in paths:
        if path.is_dir():
            yield from documents(spl_files(path))
        elif path.suffix.lower() == ".zip":
            yield from _member_sources(path)
        else:
            yield path.name, _file_opener(path)


def parse(paths: Sequence[Path]) -> Iterator[Parsed]:
    """One ``Record`` per set id (its highest version in the release), or ``Rejected``.

    Headers are peeked first; the versions of one set id are read newest first until one
    reads, the others are rejected as superseded (a broken newest copy does not hide a good
    older one).
    """
    docs = list(documents(paths))
    groups: dict[str, list[tuple[tuple[int, date, int], int]]] = {}
    order: list[str | int] = []  # set ids, or indexes of documents whose header is unreadable
    for i, (_, opener) in enumerate(docs):
        with opener() as fh:
            set_id, version, when = peek(fh)
        if set_id and version is not None and when is not None:
            if set_id not in groups:
                groups[set_id] = []
                order.append(set_id)
            groups[set_id].append(((version, when, -i), i))
        else:
            order.append(i)
    for item in order:
        if isinstance(item, int):
            name, opener = docs[item]
            with opener() as fh:
                yield read_document(fh, name)
            continue
        yield from _newest_of(docs, item, sorted(groups[item], reverse=True))


def _newest_of(
    docs: list[tuple[str, XmlSource]],
    set_id: str,
    ranked: list[tuple[tuple[int, date, int], int]],
) -> Iterator[Parsed]:
    kept: tuple[str, int] | None = None
    for (version, _, _), i in ranked:
        name, opener = docs[i]
        if kept is not None:
            yield Rejected(
                name,
                None,
                f"set id {set_id} is also in {kept[0]} with version {kept[1]}; only that newest "
                f"readable version is read (this one is version {version})",
                field="versionNumber",
                record_id=set_id,
            )
            continue
        with opener() as fh:
            found = read_document(fh, name)
        if isinstance(found, Record):
            kept = (name, version)
        yield found


SPEC = SourceSpec(
    name="spl_labels",
    licence="public domain (FDA)",
    title="FDA drug labels (SPL XML)",
    parse=parse,
    snapshot=False,  # a folder of labels is a selection: a label missing from it is not withdrawn
)


def labels_folder(folder: Path) -> Path:
    """``fda/labels`` when given the data folder or ``fda/``, else the folder itself."""
    for sub in (folder / "fda" / "labels", folder / "labels"):
        if sub.is_dir():
            return sub
    return folder


def release_date(folder: Path, files: Sequence[Path]) -> date:
    """A folder of SPL files: the date in its name, else in its ``SOURCE`` note, else the newest
    effective time among its labels (the folder cannot be older than its newest label)."""
    found = date_in_name(folder.name) or source_file_date(folder)
    if found:
        return found
    dates = []
    for _, opener in documents(files):
        with opener() as fh:
            when = peek(fh)[2]
        if when:
            dates.append(when)
    return max(dates) if dates else date.fromtimestamp(folder.stat().st_mtime)


def releases(folder: Path) -> list[tuple[SourceSpec, str, tuple[Path, ...], date]]:
    """Every folder of SPL files under ``folder`` (``fda/labels`` or a parent of it), oldest
    first: one release per folder, labelled by its path below ``folder``."""
    folder = labels_folder(folder)
    out = []
    for sub in sorted({p.parent for p in folder.rglob("*") if p.is_file()}):
        files = spl_files(sub)
        if files:
            label = str(sub.relative_to(folder)) if sub != folder else sub.name
            out.append((SPEC, label, tuple(files), release_date(sub, files)))
    return sorted(out, key=lambda r: (r[3], r[1]))
