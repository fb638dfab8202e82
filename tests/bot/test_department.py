from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from bot.department import LINK_KEYS, DepartmentProfile, ProfileError
from bot.settings import ROOT


def test_default_profile_fills_every_department_slot_of_the_domain() -> None:
    profile = DepartmentProfile.load(ROOT / "department.yml")
    domain = yaml.safe_load((ROOT / "domain.yml").read_text())
    dept_slots = {name for name in domain["slots"] if name.startswith("dept_")}
    for language in ("en", "es"):
        values = profile.slot_values(language)
        assert set(values) == dept_slots
        assert all(value not in (None, "") for value in values.values())


def test_hours_follow_the_language() -> None:
    profile = DepartmentProfile.load(ROOT / "department.yml")
    assert profile.slot_values("en")["dept_hours"] == profile.hours["en"]
    assert profile.slot_values("es")["dept_hours"] == profile.hours["es"]
    assert profile.hours["en"] != profile.hours["es"]


def test_department_facts_are_never_typed_into_responses() -> None:
    """A department adopts the assistant by editing department.yml only."""
    profile = DepartmentProfile.load(ROOT / "department.yml")
    domain_text = (ROOT / "domain.yml").read_text()
    facts = [profile.non_emergency_phone, profile.tip_line, profile.crisis_line, profile.address, profile.website,
             profile.city, *profile.links.values()]
    for fact in facts:
        assert fact not in domain_text, f"{fact!r} is hard-coded in domain.yml"
    assert not re.search(r"\b\d{3}-\d{3}-\d{4}\b", domain_text)


def test_a_missing_field_is_a_clear_error() -> None:
    data = yaml.safe_load((ROOT / "department.yml").read_text())
    del data["phones"]
    with pytest.raises(ProfileError, match="phones"):
        DepartmentProfile.from_mapping(data)
    data = yaml.safe_load((ROOT / "department.yml").read_text())
    del data["links"][LINK_KEYS[0]]
    with pytest.raises(ProfileError):
        DepartmentProfile.from_mapping(data)


# -- service area and other agencies (optional sections) -------------------------------------------

def _default_data() -> dict:
    return yaml.safe_load((ROOT / "department.yml").read_text())


def test_the_default_profile_has_a_service_area_and_agencies_to_refer_to() -> None:
    profile = DepartmentProfile.load(ROOT / "department.yml")
    assert profile.service_area is not None
    assert profile.service_area.zipcodes and all(re.fullmatch(r"\d{5}", z) for z in profile.service_area.zipcodes)
    assert len(profile.service_area.streets) >= 12
    names = {agency.name for agency in profile.other_agencies}
    assert any("Sheriff" in name for name in names) and "Oregon State Police" in names
    for agency in profile.other_agencies:
        assert re.fullmatch(r"503-555-01\d\d", agency.phone), "fictional numbers only"
        assert not set(agency.zipcodes) & set(profile.service_area.zipcodes)


def test_agency_phones_are_never_typed_into_responses() -> None:
    profile = DepartmentProfile.load(ROOT / "department.yml")
    domain_text = (ROOT / "domain.yml").read_text()
    for agency in profile.other_agencies:
        assert agency.phone not in domain_text


def test_both_sections_are_optional() -> None:
    data = _default_data()
    del data["service_area"], data["other_agencies"]
    profile = DepartmentProfile.from_mapping(data)
    assert profile.service_area is None and profile.other_agencies == ()


def test_zip_codes_are_text_and_unquoted_ones_are_accepted_when_safe() -> None:
    data = _default_data()
    data["service_area"] = yaml.safe_load("zipcodes: [97201, '97202']")
    profile = DepartmentProfile.from_mapping(data)
    assert profile.service_area is not None and profile.service_area.zipcodes == ("97201", "97202")


def test_a_geojson_path_is_relative_to_the_profile_file(tmp_path: Path) -> None:
    data = _default_data()
    data["service_area"]["geojson"] = "area.geojson"
    (tmp_path / "department.yml").write_text(yaml.safe_dump(data))
    profile = DepartmentProfile.load(tmp_path / "department.yml")
    assert profile.service_area is not None and profile.service_area.geojson == tmp_path.resolve() / "area.geojson"


@pytest.mark.parametrize("section, value, message", [
    # YAML reads an unquoted 02134 as the octal number 1116: the leading zero is gone.
    ("service_area", yaml.safe_load("zipcodes: [02134]"), r"service_area\.zipcodes\[0\] must be a 5-digit ZIP"),
    ("service_area", {"zipcodes": ["9720"]}, r"service_area\.zipcodes\[0\]"),
    ("service_area", {"zipcodes": "97201"}, r"service_area\.zipcodes must be a list"),
    ("service_area", {"zipcode": ["97201"]}, r"service_area has unknown field\(s\) zipcode"),
    ("service_area", {"streets": {"main": 1}}, r"service_area\.streets must be a list"),
    ("service_area", {"streets": ["Main St", ""]}, r"service_area\.streets\[1\]"),
    ("service_area", {"geojson": 5}, r"service_area\.geojson must be a file path"),
    ("service_area", ["97201"], r"service_area must be a mapping"),
    ("other_agencies", {"name": "Sheriff"}, r"other_agencies must be a list"),
    ("other_agencies", ["Sheriff"], r"other_agencies\[0\] must be a mapping"),
    ("other_agencies", [{"name": "Sheriff", "streets": ["Ridge Rd"]}], r"other_agencies\[0\] is missing phone"),
    ("other_agencies", [{"phone": "503-555-0160", "streets": ["Ridge Rd"]}], r"other_agencies\[0\] is missing name"),
    ("other_agencies", [{"name": "Sheriff", "phone": "503-555-0160"}], r"Sheriff\) covers nothing"),
    ("other_agencies", [{"name": "Sheriff", "phone": "503-555-0160", "zip": ["97206"]}],
     r"other_agencies\[0\] has unknown field\(s\) zip"),
    ("other_agencies", [{"name": "Sheriff", "phone": "503-555-0160", "zipcodes": ["972066"]}],
     r"other_agencies\[0\]\.zipcodes\[0\]"),
])
def test_a_wrong_service_section_is_a_clear_error(section: str, value: object, message: str) -> None:
    data = _default_data()
    data[section] = value
    with pytest.raises(ProfileError, match=message):
        DepartmentProfile.from_mapping(data)
