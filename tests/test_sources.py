"""Parsers read real files and set malformed rows aside with file, line, field and reason."""

from __future__ import annotations

import gzip
from pathlib import Path

from drugradar.sources import drugbank, drugbank_targets, drugcentral, unii
from drugradar.sources.base import Record, Rejected
from drugradar.sources.registry import vocab_releases

from .conftest import FIXTURE_VOCAB


def split(items: list[Record | Rejected]) -> tuple[dict[str, Record], list[Rejected]]:
    recs = {i.record_id: i for i in items if isinstance(i, Record)}
    return recs, [i for i in items if isinstance(i, Rejected)]


def test_unii_groups_names_by_substance() -> None:
    path = next((FIXTURE_VOCAB / "unii").glob("*1.2.7*"))
    recs, bad = split(list(unii.parse([path])))
    assert not bad
    tvec = recs["07730V90L6"].data
    assert tvec["display"] == "TALIMOGENE LAHERPAREPVEC"
    assert ["IMLYGIC", "bn"] in tvec["names"] and ["ONCOVEX", "bn"] in tvec["names"]


def test_unii_malformed_rows_are_quarantined(tmp_path: Path) -> None:
    f = tmp_path / "UNII_Names_bad.txt.gz"
    with gzip.open(f, "wb") as fh:
        fh.write(b"Name\tTYPE\tUNII\tDisplay Name\n")
        fh.write(b"IMLYGIC\tbn\t07730V90L6\tTALIMOGENE LAHERPAREPVEC\n")
        fh.write(b"ONLY\tTHREE\tCOLUMNS\n")
        fh.write(b"CAF\xe9\tcn\t3G6A5W338E\tCAFFEINE\n")  # Latin-1 byte: not UTF-8
        fh.write(b"\tcn\t3G6A5W338E\tCAFFEINE\n")
        fh.write(b"X\tzz\t3G6A5W338E\tCAFFEINE\n")
        fh.write(b"Y\tcn\tnot-a-unii\tCAFFEINE\n")
    recs, bad = split(list(unii.parse([f])))
    assert set(recs) == {"07730V90L6"}
    reasons = {(b.line, b.field): b.reason for b in bad}
    assert all(b.file_name == f.name for b in bad)
    assert reasons[(3, None)] == "expected 4 tab-separated columns, found 3"
    assert reasons[(4, None)] == "line is not valid UTF-8"
    assert reasons[(5, "Name")] == "empty name"
    assert reasons[(6, "TYPE")] == "unknown name type 'zz'"
    assert reasons[(7, "UNII")] == "malformed UNII 'not-a-unii'"


def test_drugbank_reads_every_release_shape(tmp_path: Path) -> None:
    files = sorted((FIXTURE_VOCAB / "drugbank-vocabulary").glob("*.csv.gz"))
    recs, bad = split(list(drugbank.parse(files)))
    assert not bad
    pem = next(r for r in recs.values() if r.data["name"] == "Pembrolizumab")
    assert pem.data["unii"] == "DPT0O3T46P"
    # the 2021-11 layout: ';'-separated with a "Column1;…" row before the header
    f = tmp_path / "drugbank_vocabulary_2021-11_x.csv.gz"
    with gzip.open(f, "wt", encoding="utf-8") as fh:
        fh.write("Column1;Column2;Column3;Column4;Column5;Column6;Column7\n")
        fh.write("DrugBank ID;Accession Numbers;Common name;CAS;UNII;Synonyms;Standard InChI Key\n")
        fh.write(
            "DB00001;BIOD00024 | BTD00024;Lepirudin;138068-37-8;Y43GF64R34;Hirudin variant-1;\n"
        )
        fh.write("DB00002;;;;;;\n")
        fh.write("DB00003;too;few\n")
    recs, bad = split(list(drugbank.parse([f])))
    assert recs["DB00001"].data["synonyms"] == ["Hirudin variant-1"]
    assert recs["DB00001"].data["accessions"] == ["BIOD00024", "BTD00024"]
    assert [(b.line, b.field, b.record_id) for b in bad] == [
        (4, "Common name", "DB00002"),
        (5, None, None),
    ]


def test_drugcentral_merges_tables_per_drug() -> None:
    recs, bad = split(
        list(drugcentral.parse(drugcentral.release_files(FIXTURE_VOCAB / "drugcentral-2016")))
    )
    assert not bad
    with_targets = [r for r in recs.values() if r.data["targets"]]
    assert with_targets, "fixture has DrugCentral targets"
    t = with_targets[0].data["targets"][0]
    assert set(t) >= {"gene", "uniprot", "action_type"}


def test_drugbank_targets_merge_rows_of_one_target() -> None:
    f = next((FIXTURE_VOCAB / "drugbank-targets").glob("all_target*"))
    recs, bad = split(list(drugbank_targets.parse([f])))
    assert not bad
    lines = f.read_text(encoding="utf-8").splitlines()[1:]
    ids = [ln.split(",", 1)[0] for ln in lines]
    assert len(recs) == len(set(ids))


def test_releases_are_dated_and_ordered() -> None:
    rel = vocab_releases(FIXTURE_VOCAB)
    unii_dates = [r.release_date.isoformat() for r in rel if r.spec.name == "unii"]
    assert unii_dates == ["2025-03-01", "2025-06-01"]
    db = [r.release_date.isoformat() for r in rel if r.spec.name == "drugbank"]
    assert db == ["2023-08-01", "2025-02-01"]


def test_record_with_its_text_crosses_processes_as_text() -> None:
    """A reader in a second process sends records with their stored JSON text: they come back
    equal, and the text (what the store writes and hashes) is the one made there."""
    import pickle

    from drugradar.dictionary.ingest import content_hash
    from drugradar.sources.base import Record, dump_json, text_hash

    data = {"nct_id": "NCT00000001", "phases": ["PHASE2"], "b": {"z": 1, "a": [None, 1.5]}}
    text = dump_json(data)
    rec = Record("NCT00000001", data, raw="<x/>", digest=text_hash(text), text=text)
    back = pickle.loads(pickle.dumps(rec))
    assert back == rec and back.data == data and back.text == text
    assert back.digest == content_hash(data)  # the same hash as from the data itself
    plain = Record("NCT00000001", data)
    assert pickle.loads(pickle.dumps(plain)) == plain
    packed = Record("NCT00000001", data, text=text, raw_packed=b"x\x01")
    assert pickle.loads(pickle.dumps(packed)).raw_packed == b"x\x01"


def test_long_raw_text_is_stored_packed_and_comes_back_whole() -> None:
    from drugradar.sources.base import PACK_OVER, Record, pack_raw, stored_raw, unpack_raw

    short = Record("a", {}, raw="x" * PACK_OVER)
    assert stored_raw(short) == ("x" * PACK_OVER, None)
    text = "<clinical_study>\r\n  <brief_title>Étude ☃</brief_title>\r\n" * 200
    raw, packed = stored_raw(Record("b", {}, raw=text))
    assert raw is None and packed is not None and len(packed) * 8 < len(text.encode())
    assert unpack_raw(raw, packed) == text
    given = pack_raw("y" * 10)  # packed by the reader already: stored as it is
    assert stored_raw(Record("c", {}, raw_packed=given)) == (None, given)
    assert unpack_raw("as text", None) == "as text" and unpack_raw(None, None) is None
