"""The department profile (department.yml): the only source of department facts.

Responses in domain.yml never hard-code a phone number or link; they use the `dept_*`
slots built here, so a department adopts the assistant by editing one YAML file.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

import yaml

LINK_KEYS = (
    "complaint", "commendation", "records_request", "online_report", "meetings", "alerts",
    "beat_finder", "crime_stats", "volunteer", "citizen_academy", "ride_along",
    "youth_programs", "vacation_watch", "home_security", "lost_property",
    "neighborhood_watch", "privacy", "feedback",
)


class ProfileError(ValueError):
    """The department profile is missing a field or has a wrong one."""


@dataclass(frozen=True)
class DepartmentProfile:
    name: str
    short_name: str
    city: str
    timezone: str
    non_emergency_phone: str
    tip_line: str
    crisis_line: str
    text_to_911: bool
    address: str
    hours: Mapping[str, str]
    website: str
    social: str
    links: Mapping[str, str]
    languages: tuple[str, ...] = ("en", "es")
    state: str = ""
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> "DepartmentProfile":
        try:
            phones = data["phones"]
            station = data["station"]
            links = {key: str(data["links"][key]) for key in LINK_KEYS}
            languages = tuple(data.get("languages") or ("en", "es"))
            hours = {lang: str(station["hours"][lang]) for lang in languages}
            return cls(
                name=str(data["name"]),
                short_name=str(data.get("short_name") or data["name"]),
                city=str(data["city"]),
                state=str(data.get("state", "")),
                timezone=str(data["timezone"]),
                non_emergency_phone=str(phones["non_emergency"]),
                tip_line=str(phones.get("tip_line") or phones["non_emergency"]),
                crisis_line=str(phones.get("crisis_line") or "988"),
                text_to_911=bool(data.get("text_to_911", False)),
                address=str(station["address"]),
                hours=hours,
                website=str(data["website"]),
                social=str(data.get("social", data["website"])),
                links=links,
                languages=languages,
                raw=dict(data),
            )
        except (KeyError, TypeError) as exc:
            raise ProfileError(f"department profile is missing {exc}") from exc

    @classmethod
    def load(cls, path: Path) -> "DepartmentProfile":
        with open(path, encoding="utf-8") as handle:
            return cls.from_mapping(yaml.safe_load(handle) or {})

    def slot_values(self, language: str) -> dict[str, Any]:
        """The `dept_*` slots of domain.yml, with language-dependent values in `language`."""
        hours = self.hours.get(language) or next(iter(self.hours.values()))
        values: dict[str, Any] = {
            "dept_name": self.name,
            "dept_short_name": self.short_name,
            "dept_city": self.city,
            "dept_phone": self.non_emergency_phone,
            "dept_tip_line": self.tip_line,
            "dept_crisis_line": self.crisis_line,
            "dept_text911": self.text_to_911,
            "dept_address": self.address,
            "dept_hours": hours,
            "dept_website": self.website,
            "dept_social": self.social,
        }
        values.update({f"dept_url_{key}": value for key, value in self.links.items()})
        return values


@lru_cache(maxsize=8)
def load_profile(path: str) -> DepartmentProfile:
    """Cached per path: the profile is read once per process."""
    return DepartmentProfile.load(Path(path))
