from __future__ import annotations

import pytest

from bot.language import SWITCH_CONFIDENCE, LanguageGuess, choose, detect, explicit_request

ENGLISH = [
    "hi i want to report a stolen bike",
    "someone broke into my car last night",
    "when is the next community meeting",
    "how do i file a police report",
    "my neighbors dog keeps barking all night",
    "there is a suspicious guy walking around the houses on my street",
    "can i talk to an officer please",
    "what are your office hours",
    "is the office open on saturday",
    "thanks for the help",
    "thank you so much",
    "i need help with a noise complaint",
    "where do i pick up a copy of my report",
    "someone stole my packages from the porch",
    "my car got hit while it was parked",
    "how can i get a copy of an accident report",
    "whats the status of my case",
    "there are kids racing cars on our road every night",
    "i think someone is living in the empty house next door",
    "do you have meetings in the evening",
    "can u tell me where the police station is",
    "i wanna report a hit and run",
    "hello, i have a question about a parking ticket",
    "good morning, is there a meeting this week?",
    "my wallet was stolen at the park",
    "pls help my neighbour is yelling",
    "how long does it take to get a report number",
    "i dont know who to call about this",
    "somone keeps leaving trash in my yard",
    "the street lights are out on my block and people are speeding",
    "could an officer come by my house tomorrow",
    "i'm worried about my elderly neighbor",
    "is this the right number to report graffiti",
    "what time does the meeting start",
    "we had a break in at our business",
    "my daughter's phone was stolen at school",
    "who do i talk to about a barking dog",
    "ok thanks, that helps a lot",
    "yes i would like to get updates",
    "nothing happened yet but i am scared",
    "there's been a car parked in front of my house for a week",
    "can you send me the link for the meeting",
]

SPANISH = [
    "hola quiero reportar un robo",
    "alguien se metio a mi carro anoche",
    "cuando es la proxima reunion de la comunidad",
    "como puedo hacer una denuncia",
    "el perro de mi vecino ladra toda la noche",
    "hay un hombre sospechoso caminando por mi calle",
    "puedo hablar con un oficial por favor",
    "cual es el horario de la oficina",
    "esta abierta la oficina el sabado",
    "gracias por la ayuda",
    "muchas gracias",
    "necesito ayuda con una queja de ruido",
    "donde puedo recoger una copia de mi reporte",
    "me robaron los paquetes de la entrada",
    "chocaron mi carro cuando estaba estacionado",
    "como consigo una copia del reporte del accidente",
    "cual es el estado de mi caso",
    "hay muchachos haciendo carreras en nuestra calle todas las noches",
    "creo que alguien esta viviendo en la casa vacia de al lado",
    "tienen reuniones en la tarde",
    "me puede decir donde esta la estacion de policia",
    "kiero reportar un choque y se fueron",
    "buenas tardes tengo una pregunta sobre una multa",
    "buenos dias, hay reunion esta semana?",
    "me robaron la cartera en el parque",
    "porfa ayudenme mi vecino esta gritando",
    "cuanto tiempo tarda el numero de reporte",
    "no se a quien llamar por esto",
    "alguien sigue tirando basura en mi patio",
    "las luces de la calle no sirven y la gente maneja muy rapido",
    "puede venir un policia a mi casa mañana",
    "estoy preocupada por mi vecina que es mayor",
    "es este el numero para reportar grafiti",
    "a que hora empieza la reunion",
    "se metieron a robar a nuestro negocio",
    "le robaron el telefono a mi hija en la escuela",
    "con quien hablo sobre un perro que ladra",
    "ok gracias, eso me ayuda mucho",
    "si me gustaria recibir mensajes",
    "todavia no pasa nada pero tengo miedo",
    "¿Dónde está la policía?",
    "nesesito ayuda porfavor",
    "q paso con mi denuncia",
    "hola buenas noches, mi vecindario tiene problemas de seguridad",
]

SPANGLISH = [
    "hola necesito help con mi car",
    "oye necesito report un accidente en mi street",
    "quiero saber del meeting de la comunidad",
    "me robaron mi bike anoche, que hago",
    "mi neighbor tiene un perro muy agresivo",
]

AMBIGUOUS = ["ok", "1", "2.", "911", "97301", "hi", "si", "yes", "k", "👍", "", "   ",
             "1450 Center St NE", "455 Liberty St SE Salem OR 97301", "Maria Lopez", "no"]


@pytest.mark.parametrize("text", ENGLISH)
def test_english_messages_are_detected(text: str) -> None:
    assert detect(text).language == "en"


@pytest.mark.parametrize("text", SPANISH)
def test_spanish_messages_are_detected(text: str) -> None:
    assert detect(text).language == "es"


@pytest.mark.parametrize("text", SPANGLISH)
def test_mostly_spanish_spanglish_is_spanish(text: str) -> None:
    guess = detect(text)
    assert guess.language == "es"
    assert choose("en", text) == "es"


def test_corpora_are_large_enough() -> None:
    assert len(ENGLISH) >= 40 and len(SPANISH) >= 40


@pytest.mark.parametrize("text", ENGLISH)
def test_full_english_sentences_switch_a_spanish_conversation(text: str) -> None:
    if len(text.split()) >= 4:
        assert choose("es", text) == "en"


@pytest.mark.parametrize("text", SPANISH)
def test_full_spanish_sentences_switch_an_english_conversation(text: str) -> None:
    if len(text.split()) >= 4:
        assert choose("en", text) == "es"


@pytest.mark.parametrize("text", AMBIGUOUS)
@pytest.mark.parametrize("current", ["en", "es"])
def test_ambiguous_messages_keep_the_current_language(text: str, current: str) -> None:
    assert choose(current, text) == current


@pytest.mark.parametrize("text", ["ok", "1", "911", "97301", "", "1450 Center St NE", "👍"])
def test_no_signal_means_no_language(text: str) -> None:
    assert detect(text) == LanguageGuess(None, 0.0)


@pytest.mark.parametrize("text", ["gracias?", "gracias", "que?", "¿qué?", "hola"])
def test_short_but_clear_spanish_switches(text: str) -> None:
    assert choose("en", text) == "es"


@pytest.mark.parametrize("text", ["thanks", "what?", "hello", "thank you"])
def test_short_but_clear_english_switches(text: str) -> None:
    assert choose("es", text) == "en"


def test_confidence_is_bounded_and_deterministic() -> None:
    for text in ENGLISH + SPANISH:
        first, second = detect(text), detect(text)
        assert first == second
        assert 0.0 < first.confidence <= 1.0


def test_long_clear_messages_are_confident() -> None:
    assert detect("hola buenas tardes quiero saber cuando es la proxima reunion").confidence >= 0.9
    assert detect("hi i would like to know when the next meeting is").confidence >= 0.9


def test_a_rasa_payload_is_not_language() -> None:
    assert detect('/change_language{"language": "es"}').language is None
    assert choose("en", "/list_meetings") == "en"


@pytest.mark.parametrize(
    "text",
    ["english", "English please", "in english", "inglés", "en ingles", "can you speak english",
     "ENGLISH PLS", "en inglés por favor", "can you reply in english?", "no hablo español",
     "I don't understand spanish"],
)
def test_explicit_requests_for_english(text: str) -> None:
    assert explicit_request(text) == "en"
    assert choose("es", text) == "en"


@pytest.mark.parametrize(
    "text",
    ["español", "espanol", "spanish", "en español por favor", "hablas español?", "can u speak spanish",
     "Spanish please", "habla español", "do you have someone who speaks spanish", "no english",
     "no hablo ingles", "i don't speak english", "my mom only speaks spanish", "spanish, not english"],
)
def test_explicit_requests_for_spanish(text: str) -> None:
    assert explicit_request(text) == "es"
    assert choose("en", text) == "es"


@pytest.mark.parametrize(
    "text",
    ["hello", "where is the spanish meeting on friday", "english or spanish?",
     "my son is taking a spanish class at the community college this year",
     "spanish class?", "quiero reportar un robo", "", "1"],
)
def test_messages_that_are_not_language_requests(text: str) -> None:
    assert explicit_request(text) is None


def test_no_then_a_request_is_the_request() -> None:
    assert explicit_request("no, english please") == "en"
    assert explicit_request("no, en español") == "es"


def test_explicit_request_outside_supported_is_ignored() -> None:
    assert choose("en", "spanish please", supported=("en",)) == "en"


def test_conversation_language_is_stable() -> None:
    language: str | None = None
    for text, expected in [
        ("hola, quiero saber de las reuniones del vecindario", "es"),
        ("ok", "es"),
        ("1", "es"),
        ("97301", "es"),
        ("gracias", "es"),
        ("hi", "es"),
        ("can you help me with something else in english", "en"),
        ("ok", "en"),
        ("2", "en"),
        ("gracias", "es"),
        ("thanks", "en"),
    ]:
        language = choose(language, text)
        assert language == expected, text


def test_first_message_adopts_a_weak_lean_and_falls_back_to_default() -> None:
    assert choose(None, "hola") == "es"
    assert choose(None, "sí") == "es"
    assert choose(None, "ok") == "en"
    assert choose(None, "ok", default="es") == "es"
    assert choose(None, "97301", default="fr", supported=("es", "en")) == "es"


def test_unknown_current_language_falls_back() -> None:
    assert choose("fr", "ok") == "en"


def test_names_with_accents_do_not_switch() -> None:
    assert choose("en", "José Martínez") == "en"
    assert choose("en", "my neighbor José Martínez is missing") == "en"


def test_threshold_is_documented_value() -> None:
    assert 0.0 < SWITCH_CONFIDENCE < 1.0
