from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from bot.department import DepartmentProfile, OtherAgency, ProfileError
from bot.reports.places import (
    AreaPolygon, Place, ServiceArea, load_geojson, parse_place, polygons_from_geojson, street_from_name,
)
from bot.settings import ROOT

GEOJSON = ROOT / "tests" / "data" / "service_area.geojson"
SHERIFF = OtherAgency("Alder County Sheriff's Office", "503-555-0160", streets=("Ridge Rd", "Quarry Rd"),
                      zipcodes=("97206",))
STATE = OtherAgency("Oregon State Police", "503-555-0188", streets=("Hwy 101", "I-5"))
WORKS = OtherAgency("Port Alder Public Works", "503-555-0130", topics=("pothole", "streetlight", "bache"))


# -- addresses ---------------------------------------------------------------------------------

@pytest.mark.parametrize("text, display, number, street, unit", [
    ("123 n main st", "123 N Main St", "123", "N Main St", None),
    ("1200 harbor blvd apt 4", "1200 Harbor Blvd Apt 4", "1200", "Harbor Blvd", "Apt 4"),
    ("someone broke into my car at 1200 Harbor Blvd Apt 4", "1200 Harbor Blvd Apt 4", "1200", "Harbor Blvd", "Apt 4"),
    ("123 w. main st. apt #4", "123 W Main St Apt 4", "123", "W Main St", "Apt 4"),
    ("i live at 55 river st unit 2b", "55 River St Unit 2B", "55", "River St", "Unit 2B"),
    ("loud party at 445 pine st", "445 Pine St", "445", "Pine St", None),
    ("dog barking all night at 22 cedar ln", "22 Cedar Ln", "22", "Cedar Ln", None),
    ("123 main stret", "123 Main St", "123", "Main St", None),
    ("456 n elm steet", "456 N Elm St", "456", "N Elm St", None),
    ("789 harbor bulevard", "789 Harbor Blvd", "789", "Harbor Blvd", None),
    ("10 bay raod", "10 Bay Rd", "10", "Bay Rd", None),
    ("crash at 4500 highway 101", "4500 Hwy 101", "4500", "Hwy 101", None),
    ("2200 alder avenue", "2200 Alder Ave", "2200", "Alder Ave", None),
    ("1450 summit drive", "1450 Summit Dr", "1450", "Summit Dr", None),
    ("88 SE Oak St", "88 SE Oak St", "88", "SE Oak St", None),
    ("300 martin luther king jr blvd", "300 Martin Luther King Jr Blvd", "300", "Martin Luther King Jr Blvd", None),
    ("the 1200 block of harbor blvd", "1200 block of Harbor Blvd", "1200", "Harbor Blvd", None),
    ("someone broke into cars on the 400 block of front st last night", "400 block of Front St", "400",
     "Front St", None),
    ("vivo en el 925 pine st apto 3", "925 Pine St Apt 3", "925", "Pine St", "Apt 3"),
    ("mi casa en la calle pine 340", "340 Pine", "340", "Pine", None),
    ("calle elm #123", "123 Elm", "123", "Elm", None),
])
def test_addresses(text: str, display: str, number: str, street: str, unit: str | None) -> None:
    place = parse_place(text)
    assert place is not None
    assert (place.kind, place.text, place.house_number, place.streets, place.unit) == \
        ("address", display, number, (street,), unit)


@pytest.mark.parametrize("text, zipcode", [
    ("400 harbor st, port alder or 97201", "97201"),
    ("1200 Harbor Blvd Apt 4, Port Alder OR 97203-1234", "97203"),
    ("12345 main st", None),        # five digits, but the house number
    ("5th & pine, 97204", "97204"),
    ("123 main st", None),
    ("123 main, 97201", "97201"),   # a ZIP right after makes "123 main" an address
])
def test_a_zip_code_is_kept_but_never_taken_from_the_house_number(text: str, zipcode: str | None) -> None:
    place = parse_place(text)
    assert place is not None and place.zipcode == zipcode


# -- intersections -----------------------------------------------------------------------------

@pytest.mark.parametrize("text, display", [
    ("main & 5th", "Main & 5th"),
    ("5th and main", "5th & Main"),
    ("corner of elm and 3rd", "Elm & 3rd"),
    ("main st at 5th ave", "Main St & 5th Ave"),
    ("main street and fifth avenue", "Main St & 5th Ave"),
    ("at fifth avenue and pine street", "5th Ave & Pine St"),
    ("main/5th", "Main & 5th"),
    ("main @ 5th", "Main & 5th"),
    ("main & 5", "Main & 5th"),
    ("at main and elm", "Main & Elm"),
    ("corner of 1st and harbor", "1st & Harbor"),
    ("at first and harbor", "1st & Harbor"),
    ("streetlight out at maple and 2nd", "Maple & 2nd"),
    ("tagged elm st and 3rd ave", "Elm St & 3rd Ave"),
    ("martin luther king jr blvd and 5th", "Martin Luther King Jr Blvd & 5th"),
    ("crash at i-5 and main", "I-5 & Main"),
    ("hwy 101 and bay rd", "Hwy 101 & Bay Rd"),
    ("n main st and w 3rd st", "N Main St & W 3rd St"),
    # Spanish
    ("esquina de main y 5th", "Main & 5th"),
    ("en la calle elm y la 3", "Elm & 3rd"),
    ("choque en la esquina de la 5 y main", "5th & Main"),
    ("en la 3 y elm", "3rd & Elm"),
    ("en la esquina de la quinta y pine", "5th & Pine"),
    ("esquina de main con la 5ta", "Main & 5th"),
    ("avenida alder y calle pine", "Alder Ave & Pine"),
])
def test_intersections(text: str, display: str) -> None:
    place = parse_place(text)
    assert place is not None
    assert (place.kind, place.text) == ("intersection", display)
    assert place.streets == tuple(display.split(" & "))


@pytest.mark.parametrize("text, detail", [
    ("graffiti on the wall behind 5th and main", "behind"),
    ("near the corner of elm and 3rd", "near"),
    ("across from main & 5th", "across from"),
    ("detrás de la esquina de main y 5th", "behind"),
    ("cerca de main y la 3", "near"),
    ("at main and 5th", None),
    ("near 2200 alder ave", "near"),
])
def test_a_qualifier_before_the_place_is_kept_as_detail(text: str, detail: str | None) -> None:
    place = parse_place(text)
    assert place is not None and place.detail == detail


def test_graffiti_behind_an_intersection_is_the_intersection_with_its_qualifier() -> None:
    assert parse_place("graffiti on the wall behind 5th and main") == Place(
        "intersection", "5th & Main", ("5th", "Main"), detail="behind")


def test_a_landmark_next_to_an_intersection_is_kept_with_it() -> None:
    place = parse_place("someone keyed my car in the safeway parking lot at main and 5th")
    assert place is not None
    assert (place.kind, place.text, place.landmark) == ("intersection", "Main & 5th", "the Safeway parking lot")


# -- landmarks and streets alone -----------------------------------------------------------------

@pytest.mark.parametrize("text, display, detail", [
    ("behind the library", "the library", "behind"),
    ("in the safeway parking lot", "the Safeway parking lot", None),
    ("near lincoln elementary", "Lincoln Elementary", "near"),
    ("near lincoln high school", "Lincoln High School", "near"),
    ("someone is selling drugs at the park", "the park", None),
    ("at the marina", "the marina", None),
    ("by the high school", "the high school", "near"),
    ("across the street from the post office", "the post office", "across from"),
    ("outside the library", "the library", "outside"),
    ("in front of the 7-eleven", "the 7-Eleven", "in front of"),
    ("at the bus stop on elm", "the bus stop on Elm", None),
    ("someone keyed my car in the winco parking lot on front st", "the WinCo parking lot on Front St", None),
    ("in the alley behind front st", "the alley behind Front St", None),
    ("someone is sleeping in the doorway of the church on pine st", "the church on Pine St", None),
    ("in the dollar tree parking lot", "the Dollar Tree parking lot", None),
    # Spanish
    ("en el parque harbor", "el parque Harbor", None),
    ("detrás de la biblioteca", "la biblioteca", "behind"),
    ("robaron mi bicicleta enfrente de la tienda", "la tienda", "in front of"),
    ("frente al mercado", "el mercado", "in front of"),
    ("en el estacionamiento del safeway", "el estacionamiento del Safeway", None),
    ("cerca de la escuela lincoln", "la escuela Lincoln", "near"),
    ("hay grafiti en la pared de la escuela", "la escuela", None),
    ("pintaron la pared detras del mercado en la calle pine", "el mercado on Pine", "behind"),
])
def test_landmarks(text: str, display: str, detail: str | None) -> None:
    place = parse_place(text)
    assert place is not None
    assert (place.kind, place.text, place.detail) == ("landmark", display, detail)


@pytest.mark.parametrize("text, display", [
    ("there is a pothole on bay rd", "Bay Rd"),
    ("speeding on main st every night", "Main St"),
    ("abandoned car on elm street for 2 weeks", "Elm St"),
    ("people racing on hwy 101", "Hwy 101"),
    ("i was on highway 18", "Hwy 18"),
    ("cars racing on us 101", "Hwy 101"),
    ("i was driving down harbor blvd", "Harbor Blvd"),
    ("west main street", "W Main St"),
    ("mi carro fue robado en la avenida alder", "Alder Ave"),
    ("en la carretera 101", "Hwy 101"),
])
def test_a_street_alone_is_a_street(text: str, display: str) -> None:
    place = parse_place(text)
    assert place is not None
    assert (place.kind, place.text, place.streets, place.house_number) == ("street", display, (display,), None)


@pytest.mark.parametrize("text", [
    "my car got broken into",
    "someone stole my bike last night",
    "hi",
    "",
    "what is the non emergency number",
    "how do i join neighborhood watch",
    "i have 2 dogs and 3 cats",
    "it happened at 5 pm",
    "11/20 at 3pm",
    "hace 2 horas",
    "me robaron el carro",
    "in front of my house",
    "enfrente de mi casa",
    "my neighbor keeps parking in front of my driveway",
    "i was at work and my car was stolen",
    "the guy and his friend",
    "a guy and a girl were fighting",
    "i want to report a noise complaint, loud music and yelling",
    "someone is living in a car on a long drive",
    "they told us 5 times",
    "my report number is 24-00123",
    "call me at 503-555-0123",
    "97201",
    "on 3rd",
    "near my kid's school",
])
def test_no_place_is_none(text: str) -> None:
    assert parse_place(text) is None


# -- normalisation -----------------------------------------------------------------------------

@pytest.mark.parametrize("suffix, expected", [
    ("st", "St"), ("street", "St"), ("stret", "St"), ("ave", "Ave"), ("av", "Ave"), ("avenue", "Ave"),
    ("blvd", "Blvd"), ("boulevard", "Blvd"), ("rd", "Rd"), ("road", "Rd"), ("dr", "Dr"), ("drive", "Dr"),
    ("ln", "Ln"), ("lane", "Ln"), ("ct", "Ct"), ("court", "Ct"), ("pl", "Pl"), ("place", "Pl"),
    ("hwy", "Hwy"), ("highway", "Hwy"),
])
def test_street_types_are_normalised(suffix: str, expected: str) -> None:
    place = parse_place(f"1450 summit {suffix}")
    assert place is not None and place.text == f"1450 Summit {expected}"


@pytest.mark.parametrize("direction, expected", [
    ("n", "N"), ("north", "N"), ("s", "S"), ("south", "S"), ("e", "E"), ("east", "E"), ("w", "W"),
    ("west", "W"), ("nw", "NW"), ("northeast", "NE"),
])
def test_directions_are_normalised(direction: str, expected: str) -> None:
    place = parse_place(f"640 {direction} river st")
    assert place is not None and place.text == f"640 {expected} River St"


@pytest.mark.parametrize("ordinal", ["5th", "fifth", "5", "5TH", "quinta", "5ta", "5rd"])
def test_ordinals_are_normalised(ordinal: str) -> None:
    place = parse_place(f"corner of main and {ordinal}")
    assert place is not None and place.text == "Main & 5th"


@pytest.mark.parametrize("number, expected", [(1, "1st"), (2, "2nd"), (3, "3rd"), (4, "4th"), (11, "11th"),
                                              (12, "12th"), (13, "13th"), (21, "21st"), (22, "22nd"), (23, "23rd")])
def test_ordinal_suffixes_follow_english_rules(number: int, expected: str) -> None:
    place = parse_place(f"{number}th & main")
    assert place is not None and place.text == f"{expected} & Main"


@pytest.mark.parametrize("name, display, key", [
    ("N Main St", "N Main St", "main"),
    ("main street", "Main St", "main"),
    ("Hwy 101", "Hwy 101", "101"),
    ("highway 101", "Hwy 101", "101"),
    ("US-101", "Hwy 101", "101"),
    ("i-5", "I-5", "5"),
    ("interstate 5", "I-5", "5"),
    ("fifth avenue", "5th Ave", "5th"),
    ("5th Ave", "5th Ave", "5th"),
    ("Martin Luther King Jr Blvd", "Martin Luther King Jr Blvd", "martin luther king jr"),
    ("calle elm", "Elm", "elm"),
    ("Main St NW", "Main St NW", "main"),
])
def test_configured_street_names_read_like_residents_text(name: str, display: str, key: str) -> None:
    street = street_from_name(name)
    assert street is not None
    assert (street.display, street.key) == (display, key)


@pytest.mark.parametrize("text", ["123 n main st", "main st at 5th ave", "4500 hwy 101", "i-5 and main",
                                  "en la calle elm y la 3"])
def test_display_names_read_back_to_themselves(text: str) -> None:
    place = parse_place(text)
    assert place is not None
    for name in place.streets:
        street = street_from_name(name)
        assert street is not None and street.display == name


def test_a_place_survives_a_slot_round_trip() -> None:
    place = parse_place("1200 harbor blvd apt 4, 97203")
    assert place is not None
    data = json.loads(json.dumps(place.as_dict()))
    assert Place.from_dict(data) == place


# -- service area: streets and ZIP codes -----------------------------------------------------------

@pytest.fixture
def area() -> ServiceArea:
    return ServiceArea(zipcodes=("97201", "97202", "97203"), streets=("Main St", "Harbor St", "Harbor Blvd",
                                                                       "5th Ave", "Elm St", "River Rd"),
                       agencies=(SHERIFF, STATE, WORKS,
                                 OtherAgency("Other County", "503-555-0111", streets=("River Rd",))))


@pytest.mark.parametrize("text, inside, agency", [
    ("123 main st", True, None),
    ("123 n main st", True, None),               # a direction does not change the street
    ("main & 5th", True, None),                   # no type given: matches the listed Main St, 5th Ave
    ("10 harbor blvd", True, None),
    ("12 foo st", None, None),                    # unknown street: staff check, never "outside"
    ("10 harbor ave", None, None),                # Harbor St and Blvd are listed; Harbor Ave is not
    ("100 ridge rd", False, SHERIFF),
    ("ridge rd and quarry rd", False, SHERIFF),
    ("4500 hwy 101", False, STATE),
    ("crash at i-5 and main", True, None),       # one street is wholly ours
    ("main st & hwy 101", True, None),
    ("hwy 101 & ridge rd", False, None),          # outside, but two agencies could take it
    ("12 river rd", None, None),                  # listed for us and another agency: staff check
    ("12 foo st 97206", False, SHERIFF),          # ZIP of another agency
    ("12 foo st 97299", False, None),             # ZIP that is not ours, no agency configured for it
    ("12 foo st 97201", True, None),
    ("12 main st 97206", None, None),             # street says ours, ZIP says sheriff: staff check
    ("100 ridge rd 97201", None, None),
    ("behind the library", None, None),
])
def test_area_verdicts(area: ServiceArea, text: str, inside: bool | None, agency: OtherAgency | None) -> None:
    place = parse_place(text)
    assert place is not None
    verdict = area.check(place)
    assert (verdict.inside, verdict.agency) == (inside, agency)
    assert verdict.reason


def test_an_agency_is_only_named_when_the_place_is_outside(area: ServiceArea) -> None:
    for text in ("12 main st 97206", "12 river rd", "12 foo st", "behind the library", "123 main st"):
        place = parse_place(text)
        assert place is not None
        verdict = area.check(place)
        assert verdict.inside is not False and verdict.agency is None


def test_with_nothing_configured_everything_is_unknown() -> None:
    empty = ServiceArea()
    for text in ("123 main st 97201", "100 ridge rd", "main & 5th", "behind the library"):
        place = parse_place(text)
        assert place is not None and empty.check(place).inside is None


@pytest.mark.parametrize("text, agency", [
    ("there is a huge pothole on bay rd", WORKS),
    ("the streetlight is out", WORKS),
    ("hay un bache enorme", WORKS),
    ("my car was broken into", None),
    ("potholes", None),                           # only the configured words, whole words
])
def test_topics_name_the_agency_that_handles_them(area: ServiceArea, text: str, agency: OtherAgency | None) -> None:
    assert area.agency_for_topic(text) == agency


def test_the_default_profile_knows_its_own_streets_and_neighbours() -> None:
    area = ServiceArea.from_profile(DepartmentProfile.load(ROOT / "department.yml"))
    station = parse_place("400 harbor st, port alder or 97201")
    assert station is not None and area.check(station).inside is True
    highway = area.check(parse_place("crash at 4500 hwy 101") or Place("street", ""))
    assert highway.inside is False and highway.agency is not None and highway.agency.name == "Oregon State Police"
    county = area.check(parse_place("100 ridge rd") or Place("street", ""))
    assert county.agency is not None and "Sheriff" in county.agency.name
    works = area.agency_for_topic("el semáforo no funciona")
    assert works is not None and "Public Works" in works.name


# -- service area: the map -------------------------------------------------------------------------

@pytest.fixture
def mapped() -> ServiceArea:
    return ServiceArea(zipcodes=("97201",), polygons=load_geojson(GEOJSON), agencies=(SHERIFF,))


@pytest.mark.parametrize("lat, lon, inside", [
    (44.65, -124.09, True),     # in the main polygon
    (44.65, -124.05, False),    # in its hole (a county island)
    (44.61, -123.94, True),     # in the second polygon of the MultiPolygon
    (44.65, -123.97, False),    # between the two
    (44.75, -124.05, False),    # north of everything
    (44.6401, -124.0599, False),  # just inside the hole's corner
    (44.6399, -124.0599, True),   # just outside it
])
def test_points_in_a_multipolygon_with_a_hole(mapped: ServiceArea, lat: float, lon: float, inside: bool) -> None:
    assert mapped.contains_point(lat, lon) is inside
    verdict = mapped.check(Place("landmark", "the pin", lat=lat, lon=lon))
    assert verdict.inside is inside


def test_the_map_decides_over_streets_and_names_the_agency_of_the_zip(mapped: ServiceArea) -> None:
    place = Place("address", "12 Foo St", ("Foo St",), "12", zipcode="97206", lat=44.65, lon=-124.05)
    verdict = mapped.check(place)
    assert (verdict.inside, verdict.agency) == (False, SHERIFF)
    inside = Place("address", "12 Foo St", ("Foo St",), "12", zipcode="97206", lat=44.65, lon=-124.09)
    assert mapped.check(inside).inside is True


def test_without_coordinates_the_map_is_not_used(mapped: ServiceArea) -> None:
    assert mapped.check(Place("address", "12 Foo St", ("Foo St",), "12")).inside is None
    assert ServiceArea().contains_point(44.65, -124.09) is None


def test_a_single_polygon_with_a_hole() -> None:
    polygon = {"type": "Polygon", "coordinates": [
        [[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]],
        [[4, 4], [6, 4], [6, 6], [4, 6], [4, 4]],
    ]}
    (shape,) = polygons_from_geojson(polygon)
    assert isinstance(shape, AreaPolygon)
    assert shape.contains(2, 2) and not shape.contains(5, 5) and not shape.contains(11, 5)


def test_a_concave_polygon() -> None:
    """A U shape: the gap between the arms is outside, though inside the bounding box."""
    (shape,) = polygons_from_geojson({"type": "Polygon", "coordinates": [
        [[0, 0], [9, 0], [9, 9], [6, 9], [6, 3], [3, 3], [3, 9], [0, 9], [0, 0]]]})
    assert shape.contains(1, 8) and shape.contains(8, 8) and shape.contains(4.5, 1)
    assert not shape.contains(4.5, 6)


@pytest.mark.parametrize("data, message", [
    ({"type": "Point", "coordinates": [0, 0]}, "not an area"),
    ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 0]]]}, "at least 4"),
    ({"type": "Polygon", "coordinates": [[[0, 0], [1, "x"], [1, 1], [0, 0]]]}, "not a \\[lon, lat\\]"),
    ({"type": "MultiPolygon", "coordinates": []}, "at least one polygon"),
    ([1, 2], "not a GeoJSON object"),
])
def test_a_bad_map_is_a_clear_profile_error(data: object, message: str) -> None:
    with pytest.raises(ProfileError, match=message):
        polygons_from_geojson(data)


def test_a_missing_or_broken_map_file_is_a_profile_error(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="cannot read"):
        load_geojson(tmp_path / "nowhere.geojson")
    broken = tmp_path / "broken.geojson"
    broken.write_text("{not json")
    with pytest.raises(ProfileError, match="not valid JSON"):
        load_geojson(broken)


def test_the_profile_map_path_is_relative_to_the_profile_file(tmp_path: Path) -> None:
    data = yaml.safe_load((ROOT / "department.yml").read_text())
    data["service_area"]["geojson"] = "maps/area.geojson"
    (tmp_path / "maps").mkdir()
    (tmp_path / "maps" / "area.geojson").write_text(GEOJSON.read_text())
    (tmp_path / "department.yml").write_text(yaml.safe_dump(data))
    area = ServiceArea.from_profile(DepartmentProfile.load(tmp_path / "department.yml"))
    assert area.contains_point(44.61, -123.94) is True
    assert area.contains_point(44.65, -124.05) is False
