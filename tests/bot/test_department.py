from __future__ import annotations

import re

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
