"""The department profile (department.yml): the only source of department facts.

Responses in domain.yml never hard-code a phone number or link; they use the `dept_*`
slots built here, so a department adopts the assistant by editing one YAML file.

The optional `service_area` and `other_agencies` sections say which reports are the
department's and where to send the others; they are checked here, when the profile loads, so a
typo in department.yml fails at start-up with a message that names the field.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

import yaml

from bot.handoff.hours import HoursError, StaffHours

LINK_KEYS = (
    "complaint", "commendation", "records_request", "online_report", "meetings", "alerts",
    "beat_finder", "crime_stats", "volunteer", "citizen_academy", "ride_along",
    "youth_programs", "vacation_watch", "home_security", "lost_property",
    "neighborhood_watch", "privacy", "feedback",
)


class ProfileError(ValueError):
    """The department profile is missing a field or has a wrong one."""


@dataclass(frozen=True)
class OtherAgency:
    """Another agency that takes some reports instead of the department (sheriff, state police,
    public works): residents are given its name and phone rather than a dead end."""

    name: str
    phone: str
    streets: tuple[str, ...] = ()
    zipcodes: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()


@dataclass(frozen=True)
class ServiceAreaConfig:
    """Where the department answers reports. Every part is optional; what is not configured
    stays "unknown" (staff check) rather than being guessed."""

    zipcodes: tuple[str, ...] = ()
    streets: tuple[str, ...] = ()
    geojson: Path | None = None


_AREA_KEYS = {"zipcodes", "streets", "geojson"}
_AGENCY_KEYS = {"name", "phone", "streets", "zipcodes", "topics"}


def _check_keys(where: str, value: Mapping[str, Any], allowed: set[str]) -> None:
    unknown = sorted(str(key) for key in value if key not in allowed)
    if unknown:
        raise ProfileError(f"department profile: {where} has unknown field(s) {', '.join(unknown)} "
                           f"(allowed: {', '.join(sorted(allowed))})")


def _text_list(where: str, value: Any) -> tuple[str, ...]:
    """A list of non-empty strings; one string alone is read as a list of one."""
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise ProfileError(f"department profile: {where} must be a list, not {type(value).__name__}")
    items: list[str] = []
    for index, item in enumerate(value):
        if not isinstance(item, (str, int)) or isinstance(item, bool) or not str(item).strip():
            raise ProfileError(f"department profile: {where}[{index}] must be a non-empty text, not {item!r}")
        items.append(str(item).strip())
    return tuple(items)


def _zip_list(where: str, value: Any) -> tuple[str, ...]:
    """ZIP codes as 5-digit strings. YAML reads an unquoted 02134 as a number (even as octal),
    so numbers are only accepted when they cannot have lost a leading zero."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ProfileError(f"department profile: {where} must be a list of ZIP codes")
    zipcodes: list[str] = []
    for index, item in enumerate(value):
        if isinstance(item, int) and not isinstance(item, bool) and 10000 <= item <= 99999:
            item = str(item)
        if not isinstance(item, str) or not re.fullmatch(r"\d{5}", item.strip()):
            raise ProfileError(f"department profile: {where}[{index}] must be a 5-digit ZIP code in quotes "
                               f"(\"97201\"), not {item!r}")
        zipcodes.append(item.strip())
    return tuple(zipcodes)


def _service_area(value: Any, base_dir: Path | None) -> ServiceAreaConfig | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise ProfileError("department profile: service_area must be a mapping with zipcodes, streets or geojson")
    _check_keys("service_area", value, _AREA_KEYS)
    geojson: Path | None = None
    if value.get("geojson") not in (None, ""):
        if not isinstance(value["geojson"], str):
            raise ProfileError("department profile: service_area.geojson must be a file path")
        geojson = Path(value["geojson"])
        if not geojson.is_absolute() and base_dir is not None:
            geojson = base_dir / geojson
    return ServiceAreaConfig(
        zipcodes=_zip_list("service_area.zipcodes", value.get("zipcodes")),
        streets=_text_list("service_area.streets", value.get("streets")),
        geojson=geojson,
    )


@dataclass(frozen=True)
class CannedReply:
    """A reply staff can send with one click, in each of the department's languages."""

    title: str
    texts: Mapping[str, str]

    def text(self, language: str | None) -> str:
        return self.texts.get(language or "") or next(iter(self.texts.values()))


def _canned_replies(value: Any, languages: tuple[str, ...]) -> tuple[CannedReply, ...]:
    replies = []
    for index, entry in enumerate(value or ()):
        if not isinstance(entry, Mapping) or not entry.get("title"):
            raise ProfileError(f"department profile: canned_replies[{index}] needs a title")
        missing = [lang for lang in languages if not str(entry.get(lang) or "").strip()]
        if missing:
            raise ProfileError(f"department profile: canned reply {entry['title']!r} has no text in {missing}")
        replies.append(CannedReply(str(entry["title"]), {lang: str(entry[lang]).strip() for lang in languages}))
    return tuple(replies)


def _other_agencies(value: Any) -> tuple[OtherAgency, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ProfileError("department profile: other_agencies must be a list of agencies")
    agencies: list[OtherAgency] = []
    for index, item in enumerate(value):
        where = f"other_agencies[{index}]"
        if not isinstance(item, Mapping):
            raise ProfileError(f"department profile: {where} must be a mapping with name and phone")
        _check_keys(where, item, _AGENCY_KEYS)
        for key in ("name", "phone"):
            if not isinstance(item.get(key), str) or not item[key].strip():
                raise ProfileError(f"department profile: {where} is missing {key}")
        agency = OtherAgency(
            name=item["name"].strip(), phone=item["phone"].strip(),
            streets=_text_list(f"{where}.streets", item.get("streets")),
            zipcodes=_zip_list(f"{where}.zipcodes", item.get("zipcodes")),
            topics=_text_list(f"{where}.topics", item.get("topics")),
        )
        if not (agency.streets or agency.zipcodes or agency.topics):
            raise ProfileError(f"department profile: {where} ({agency.name}) covers nothing: "
                               "give it streets, zipcodes or topics")
        agencies.append(agency)
    return tuple(agencies)


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
    service_area: ServiceAreaConfig | None = None
    other_agencies: tuple[OtherAgency, ...] = ()
    staff_hours: StaffHours = field(default_factory=lambda: StaffHours.from_mapping(None))
    canned_replies: tuple[CannedReply, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], base_dir: Path | None = None) -> "DepartmentProfile":
        """`base_dir` resolves a relative `service_area.geojson` (the profile file's folder)."""
        service_area = _service_area(data.get("service_area"), base_dir)
        other_agencies = _other_agencies(data.get("other_agencies"))
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
                service_area=service_area,
                other_agencies=other_agencies,
                staff_hours=StaffHours.from_mapping(data.get("staff_hours")),
                canned_replies=_canned_replies(data.get("canned_replies"), languages),
                raw=dict(data),
            )
        except (KeyError, TypeError) as exc:
            raise ProfileError(f"department profile is missing {exc}") from exc
        except HoursError as exc:
            raise ProfileError(str(exc)) from exc

    @classmethod
    def load(cls, path: Path) -> "DepartmentProfile":
        with open(path, encoding="utf-8") as handle:
            return cls.from_mapping(yaml.safe_load(handle) or {}, base_dir=Path(path).resolve().parent)

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
