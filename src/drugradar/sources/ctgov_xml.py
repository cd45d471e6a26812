"""ClinicalTrials.gov legacy ``clinical_study`` XML (the AllPublicXML dump layout).

Years of registry history exist only in this format (dated AllPublicXML dumps), so it is read
onto the same ``Trial`` as API v2 JSON. An archive is streamed member by member (``r|*``), never
unpacked to disk: a full dump holds hundreds of thousands of files. One bad document is
``Rejected``, the rest of the archive goes on.
Format: https://clinicaltrials.gov/ct2/html/images/info/public.xsd
"""

from __future__ import annotations

import re
import tarfile
from collections.abc import Iterator, Sequence
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from lxml import etree

from drugradar.model.trial import (
    ArmGroup,
    Intervention,
    Mesh,
    Party,
    Site,
    Trial,
    TrialDate,
)
from drugradar.sources.base import Rejected
from drugradar.sources.ctgov_common import (
    ARCHIVE_SUFFIXES as _ARCHIVE_SUFFIXES,
)
from drugradar.sources.ctgov_common import (
    NCT_ID,
    StudyDoc,
    arm_type,
    date_text,
    date_type,
    intervention_type,
    phases,
    sponsor_class,
    status,
    study_type,
)

SOURCE_FORMAT = "xml"
RAW_LIMIT = 2000  # characters of a rejected document kept for the quarantine table
_DOWNLOAD_DATE = re.compile(
    rb"<download_date>[^<]*?processed this data on\s+([A-Za-z]+\s+\d{1,2},\s+\d{4})"
)
_NCT_IN_TEXT = re.compile(r"<nct_id>\s*(NCT\d{8})\s*</nct_id>")
_REGISTRY_SUFFIX = re.compile(r"\s*\[[^\]]*\]\s*$")  # "Observational [Patient Registry]"

# Hostile input must not reach the network or expand entities (billion laughs, XXE).
_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_pis=True
)


class StudyError(ValueError):
    """A document that cannot be a trial; ``field`` and ``record_id`` go to the quarantine row."""

    def __init__(self, message: str, field: str | None = None, record_id: str | None = None):
        super().__init__(message)
        self.field = field
        self.record_id = record_id


def _clean(text: str | None) -> str | None:
    if text is None:
        return None
    out = " ".join(text.split())
    return out or None


def _text(el: Any) -> str | None:
    """The element's whole text, whitespace collapsed; ``None`` for absent or empty."""
    if el is None:
        return None
    if len(el) == 0:  # a leaf (nearly every element): its text, without walking
        text = el.text
        return _clean(text) if isinstance(text, str) else None
    return _clean("".join(str(t) for t in el.itertext()))


def _find(el: Any, path: str) -> str | None:
    return _text(el.find(path))


class _Children:
    """A study's top-level elements by tag, in one walk: ``find`` with a path string goes
    through lxml's Python path engine, which cost more than the rest of the reading."""

    __slots__ = ("first", "many")

    def __init__(self, root: Any) -> None:
        self.first: dict[str, Any] = {}
        self.many: dict[str, list[Any]] = {}
        for child in root.iterchildren():
            tag = child.tag
            if not isinstance(tag, str):  # comments, processing instructions
                continue
            if tag in _REPEATED:
                self.many.setdefault(tag, []).append(child)
            elif tag not in self.first:
                self.first[tag] = child

    def text(self, tag: str) -> str | None:
        return _text(self.first.get(tag))

    def all(self, tag: str) -> list[Any]:
        return self.many.get(tag, [])

    def nested(self, tag: str, inner: str) -> list[str]:
        """Every non-empty text of ``tag/inner`` (``_all(root, "tag/inner")``)."""
        out: list[str] = []
        for el in self.many.get(tag, ()):
            for value in _all(el, inner):
                if value not in out:
                    out.append(value)
        return out


_REPEATED = frozenset(
    {"id_info", "condition", "condition_browse", "keyword", "intervention", "arm_group"}
    | {"location", "location_countries"}
)


def _leaves(el: Any) -> dict[str, Any]:
    """Every descendant by tag, in one walk (a site's facility, address, status): big studies
    list hundreds of sites, and one walk is far cheaper than a path search per field. The first
    element of a tag wins; ``_leaf`` reads one (texts are cleaned only when asked for)."""
    out: dict[str, Any] = {}
    for child in el.iterdescendants():
        tag = child.tag
        if isinstance(tag, str) and tag not in out:
            out[tag] = child
    return out


def _leaf(fields: dict[str, Any], tag: str) -> str | None:
    """The text of ``tag`` among ``_leaves``; ``None`` when absent or not a leaf."""
    el = fields.get(tag)
    if el is None or len(el) != 0:
        return None
    text = el.text
    return _clean(text) if isinstance(text, str) else None


def _texts(elements: list[Any]) -> list[str]:
    """The non-empty texts of ``elements``, in order, without repeats."""
    out: list[str] = []
    for child in elements:
        value = _text(child)
        if value is not None and value not in out:
            out.append(value)
    return out


def _all(el: Any, path: str) -> list[str]:
    """Every non-empty text at ``path``, in document order, without repeats."""
    return _texts(el.findall(path))


def _attr(el: Any, name: str) -> str | None:
    if el is None:
        return None
    value = el.get(name)
    return _clean(value) if isinstance(value, str) else None


def _date(top: _Children, tag: str, trial: Trial) -> TrialDate | None:
    el = top.first.get(tag)
    raw = _text(el)
    if raw is None:
        return None
    iso = date_text(raw)
    if iso is None:
        trial.unknown_values.append(f"{tag}: {raw}")
        return None
    return TrialDate(iso, date_type(_attr(el, "type")))


def _posted(top: _Children, tags: tuple[str, ...], trial: Trial) -> str | None:
    """The first of ``tags`` present: the posted date, else the pre-2017 name.

    The old tags (``firstreceived_date``…) are the day the sponsor submitted, usually a few days
    before ClinicalTrials.gov posted; dumps before 2017 carry nothing closer.
    """
    for tag in tags:
        raw = top.text(tag)
        if raw is None:
            continue
        iso = date_text(raw)
        if iso is None:
            trial.unknown_values.append(f"{tag}: {raw}")
        return iso
    return None


def _site_status(value: str | None, trial: Trial) -> str | None:
    """A site's recruitment status, reported under its own field name when unknown."""
    known = _SITE_STATUS.get(value)
    if known is not None:
        return known[0]
    scratch = Trial(trial.nct_id, SOURCE_FORMAT)
    mapped = status(value, scratch)
    if scratch.unknown_values:
        trial.unknown_values.append(f"site_status: {value}")
    elif len(_SITE_STATUS) < 1000:  # a big study lists hundreds of sites with a few statuses
        _SITE_STATUS[value] = (mapped,)
    return mapped


_SITE_STATUS: dict[str | None, tuple[str | None]] = {}


def _party(el: Any, trial: Trial) -> Party | None:
    name = _find(el, "agency")
    if name is None:
        return None
    return Party(name, sponsor_class(_find(el, "agency_class"), trial))


def _nct_id(root: Any) -> str:
    nct = _find(root, "id_info/nct_id")
    if nct is None:
        raise StudyError("the study has no <nct_id>", field="nct_id")
    if not NCT_ID.match(nct):
        raise StudyError(f"malformed NCT id {nct!r} in <nct_id>", field="nct_id", record_id=nct)
    return nct


def _root(xml: bytes) -> Any:
    try:
        root = etree.fromstring(xml, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise StudyError(f"the document is not well-formed XML ({exc})") from exc
    if root is None or root.tag != "clinical_study":
        tag = None if root is None else root.tag
        raise StudyError(f"the root element is <{tag}>, not <clinical_study>", field="root")
    return root


def parse_study(xml: bytes, origin: str) -> Trial:
    """One ``<clinical_study>`` document as a ``Trial``; ``origin`` only names it in errors.

    Raises ``StudyError`` (a ``ValueError``) for a document that cannot be a trial.
    """
    try:
        root = _root(xml)
        nct = _nct_id(root)
    except StudyError as exc:
        raise StudyError(f"{origin}: {exc}", exc.field, exc.record_id) from exc
    t = Trial(nct_id=nct, source_format=SOURCE_FORMAT)
    top = _Children(root)
    t.brief_title = top.text("brief_title")
    t.official_title = top.text("official_title")
    t.acronym = top.text("acronym")
    design = top.text("study_type")
    t.study_type = study_type(_REGISTRY_SUFFIX.sub("", design) if design else None, t)
    t.phases = phases(top.text("phase"), t)
    t.overall_status = status(top.text("overall_status"), t)
    t.why_stopped = top.text("why_stopped")
    t.start_date = _date(top, "start_date", t)
    t.primary_completion_date = _date(top, "primary_completion_date", t)
    t.completion_date = _date(top, "completion_date", t)
    t.first_posted = _posted(top, ("study_first_posted", "firstreceived_date"), t)
    t.results_first_posted = _posted(top, ("results_first_posted", "firstreceived_results_date"), t)
    t.last_update_posted = _posted(top, ("last_update_posted", "lastchanged_date"), t)
    enrollment = top.first.get("enrollment")
    count = _text(enrollment)
    if count is not None:
        if count.isdigit():
            t.enrollment = int(count)
            t.enrollment_type = date_type(_attr(enrollment, "type"))
        else:
            t.unknown_values.append(f"enrollment: {count}")
    t.conditions = _texts(top.all("condition"))
    t.condition_meshes = [Mesh(None, term) for term in top.nested("condition_browse", "mesh_term")]
    t.keywords = _texts(top.all("keyword"))

    arm_members: dict[str, list[str]] = {}
    for el in top.all("intervention"):
        name = _find(el, "intervention_name")
        if name is None:
            continue
        word = _find(el, "intervention_type")
        arms = _all(el, "arm_group_label")
        t.interventions.append(
            Intervention(
                type=intervention_type(word, t),
                name=name,
                other_names=_all(el, "other_name"),
                arm_groups=arms,
                description=_find(el, "description"),
            )
        )
        for label in arms:  # v2 style "Drug: X", the way arm groups list their interventions
            arm_members.setdefault(label, []).append(f"{word}: {name}" if word else name)
    for el in top.all("arm_group"):
        arm = _find(el, "arm_group_label")
        if arm is not None:
            kind = arm_type(_find(el, "arm_group_type"), t)
            t.arm_groups.append(ArmGroup(arm, kind, arm_members.get(arm, [])))

    sponsors = top.first.get("sponsors")
    if sponsors is not None:
        lead = sponsors.find("lead_sponsor")
        t.sponsor = None if lead is None else _party(lead, t)
        t.collaborators = [
            p for p in (_party(c, t) for c in sponsors.findall("collaborator")) if p is not None
        ]
    for loc in top.all("location"):
        fields = _leaves(loc)
        if "facility" not in fields:
            continue
        t.sites.append(
            Site(
                facility=_leaf(fields, "name"),
                city=_leaf(fields, "city"),
                state=_leaf(fields, "state"),
                country=_leaf(fields, "country"),
                status=_site_status(_leaf(fields, "status"), t),
            )
        )
    listed = top.nested("location_countries", "country")  # order means nothing: sorted, as in v2
    t.countries = sorted(set(listed) if listed else {s.country for s in t.sites if s.country})
    t.has_results = "clinical_results" in top.first
    return t


def as_of_of(xml: bytes) -> date | None:
    """The day the registry says it produced the document (``<download_date>``).

    Read with a regular expression, so a document that fails to parse still has its date.
    """
    m = _DOWNLOAD_DATE.search(xml[:4096]) or _DOWNLOAD_DATE.search(xml)
    if m is None:
        return None
    return _download_day(m.group(1))


@lru_cache(maxsize=256)
def _download_day(found: bytes) -> date | None:
    """A dump's documents share their download date: each text is read once."""
    text = " ".join(found.decode("ascii").split())
    for fmt in ("%B %d, %Y", "%b %d, %Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def _study_or_rejected(xml: bytes, origin: str, position: int) -> StudyDoc | Rejected:
    raw = xml.decode("utf-8", "replace")
    try:
        trial = parse_study(xml, origin)
    except (ValueError, etree.XMLSyntaxError) as exc:
        field = getattr(exc, "field", None)
        record_id = getattr(exc, "record_id", None)
        if record_id is None:
            m = _NCT_IN_TEXT.search(raw)
            record_id = m.group(1) if m else None
        reason = str(exc).removeprefix(f"{origin}: ")
        return Rejected(origin, position, reason, field, record_id, raw[:RAW_LIMIT])
    return StudyDoc(trial, raw, origin, as_of_of(xml))


def _is_archive(path: Path) -> bool:
    return path.name.lower().endswith(_ARCHIVE_SUFFIXES)


def _is_study_name(name: str) -> bool:
    base = name.rsplit("/", 1)[-1]
    return base.lower().endswith(".xml") and not base.startswith("._")  # skip macOS "._" files


def _read_archive(path: Path) -> Iterator[StudyDoc | Rejected]:
    position = 0
    at = 1  # the record being read when the archive breaks
    try:
        with tarfile.open(path, mode="r|*") as tar:
            for member in tar:
                if not member.isfile() or not _is_study_name(member.name):
                    continue
                fh = tar.extractfile(member)
                if fh is None:
                    continue
                position = at
                data = fh.read()
                at = position + 1
                yield _study_or_rejected(data, f"{path.name}:{member.name}", position)
    except (tarfile.TarError, EOFError, OSError) as exc:
        yield Rejected(path.name, at, f"the archive is truncated or corrupt ({exc})")


def read(paths: Sequence[Path]) -> Iterator[StudyDoc | Rejected]:
    """Every study in ``paths``: ``.xml`` files, folders of them, AllPublicXML tar archives.

    ``Rejected.line`` is the record's 1-based position among the XML documents of its archive or
    folder (1 for a single file); non-XML members (the dump's CSV) are skipped and not counted.
    A folder's origin is ``folder/relative path``, so two dated dumps stay apart.
    """
    for path in paths:
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file() and _is_study_name(p.name))
            for position, file in enumerate(files, start=1):
                origin = f"{path.name}/{file.relative_to(path).as_posix()}"
                yield _study_or_rejected(file.read_bytes(), origin, position)
        elif _is_archive(path):
            yield from _read_archive(path)
        elif _is_study_name(path.name):
            yield _study_or_rejected(path.read_bytes(), path.name, 1)
        else:
            yield Rejected(path.name, None, "not an .xml file, a folder or a tar archive")
