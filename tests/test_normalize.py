"""Normalization, salt stripping and head words: pure rules, no database."""

from __future__ import annotations

import pytest

from drugradar.resolve.normalize import head_key, norm_key, split_source_tag
from drugradar.resolve.salts import parent_names, strip_salt


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("MK-3475", "mk3475"),
        ("MK 3475", "MK3475"),
        ("Keytruda®", "KEYTRUDA"),
        ("Herceptin™", "herceptin"),
        ("interferon α-2b", "INTERFERON ALFA-2B"),
        ("interferon alpha-2b", "interferon alfa 2b"),
        ("INTERFERON .ALPHA.-2B", "interferon alfa-2b"),
        ("TALIMOGENE LAHERPAREPVEC [INN]", "talimogene laherparepvec"),
        ("Cétuximab", "cetuximab"),
        ("salbutamol sulphate", "SALBUTAMOL SULFATE"),
        ("β-carotene", "beta carotene"),
    ],
)
def test_same_key(a: str, b: str) -> None:
    assert norm_key(a) == norm_key(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("(+)-HU-210", "HU-210"),  # a stereo descriptor names another substance
        ("EPINEPHRINE, (+)-", "EPINEPHRINE"),
        ("BASALIN (BASF)", "BASALIN"),
        ("niraparib", "niraparib tosylate"),
    ],
)
def test_different_key(a: str, b: str) -> None:
    assert norm_key(a) != norm_key(b)


def test_source_tags_split_off() -> None:
    assert split_source_tag("NIRAPARIB [INN] [JAN]") == ("NIRAPARIB", ["JAN", "INN"])
    assert split_source_tag("[LANGUAL]") == ("[LANGUAL]", [])


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("NIRAPARIB TOSYLATE", ("niraparib", ["tosylate"])),
        ("Niraparib Tosylate Monohydrate", ("niraparib", ["tosylate", "monohydrate"])),
        ("IMATINIB MESYLATE", ("imatinib", ["mesylate"])),
        ("MORPHINE SULFATE PENTAHYDRATE", ("morphine", ["sulfate", "pentahydrate"])),
        ("PROCAINE HYDROCHLORIDE", ("procaine", ["hydrochloride"])),
        ("SODIUM CHLORIDE", None),  # inorganic salts are drugs of their own
        ("LITHIUM CARBONATE", None),
        ("SODIUM OXYBATE", None),  # a leading cation is part of the name
        ("niraparib", None),
    ],
)
def test_strip_salt(name: str, expected: tuple[str, list[str]] | None) -> None:
    assert strip_salt(name) == expected


def test_parent_names_try_the_acid_of_an_ate_anion() -> None:
    assert parent_names("VALPROATE SODIUM") == ["valproate", "valproic acid"]
    assert parent_names("NIRAPARIB TOSYLATE") == ["niraparib"]
    assert parent_names("ASPIRIN") == []


def test_head_key() -> None:
    assert head_key("TALIMOGENE LAHERPAREPVEC [INN]") == "talimogene"
    assert head_key("PEMBROLIZUMAB") is None
    assert head_key("IL 2") is None  # too short to say anything
