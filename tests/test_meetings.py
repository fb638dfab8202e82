"""Community meetings by SMS, end to end: the real trained model, the action server, the demo
calendar (imported as `make run` does), a worker, and a clock the test moves for reminders."""
from __future__ import annotations

import re
from datetime import timedelta

import redis

from bot.meetings.notices import in_quiet_hours
from bot.services import Services
from bot.sms import normalize_gsm
from bot.storage.models import Signup
from scripts.localredis import LocalRedis
from tests.conftest import MutableClock
from tests.phone import Phone

ASK_NAME = re.compile(r"^For (.+, .+): what name should we put on the list\?$")


def menu_lines(reply: str) -> list[str]:
    return [line.split(" - ", 1)[1] for line in reply.splitlines() if line[:1].isdigit() and " - " in line]


def tracker_store_text(redis_server: LocalRedis) -> str:
    """Everything Rasa keeps about conversations (its tracker store is Redis DB 1 in tests)."""
    client = redis.Redis(host="127.0.0.1", port=redis_server.port, db=1)
    try:
        return " ".join(str(client.dump(key)) for key in client.scan_iter("*"))
    finally:
        client.close()


def test_find_sign_up_check_get_reminded_and_drop_a_meeting(live: Services, redis_server: LocalRedis) -> None:
    phone = Phone(live)
    [listing] = phone.text("hi, what meetings are coming up?")
    assert listing.startswith("Upcoming meetings. Pick one to sign up:")
    options = menu_lines(listing)
    assert 3 <= len(options) <= 4, listing

    [ask_name] = phone.text("1")
    assert ASK_NAME.match(ask_name), ask_name
    meeting = ASK_NAME.match(ask_name).group(1)  # type: ignore[union-attr]
    assert meeting.split(",")[0] in options[0], (meeting, options)  # the meeting picked, named
    [ask_party] = phone.text("Ana Ruiz")
    assert ask_party == f"For {meeting}: how many people are coming, you included?", ask_party
    [ask_reminders] = phone.text("2")
    assert ask_reminders.startswith(f"For {meeting}: want reminder texts"), ask_reminders
    [summary] = phone.text("yes")
    assert "People: 2. Reminders: yes." in summary and menu_lines(summary) == ["Yes", "No"]
    [done] = phone.text("1")
    assert done.startswith("You're signed up:"), done
    code = re.search(r"Ref (M-[0-9A-Z]{4})", done).group(1)  # type: ignore[union-attr]
    assert re.search(r"Add to calendar: https://assistant\.example/meetings/\d+\.ics", done)

    # the name reached the database, never Rasa
    with live.db.session() as session:
        signup = session.query(Signup).filter_by(code=code).one()
    assert (signup.name, signup.party_size, signup.reminders) == ("Ana Ruiz", 2, True)
    assert "Ana Ruiz" not in tracker_store_text(redis_server)

    [mine] = phone.text("what am i signed up for?")
    assert code in mine

    # the day before, the sweep texts one reminder, once
    meeting = live.meeting_service.meetings.get(signup.meeting_id)
    assert meeting is not None
    clock = live.clock
    assert isinstance(clock, MutableClock)
    clock.current = next(meeting.starts_at - timedelta(hours=h) for h in range(23, 2, -1)
                         if not in_quiet_hours(meeting.starts_at - timedelta(hours=h), live.settings.quiet_hours,
                                               meeting.timezone))
    before = len(phone.outbound())
    assert live.notice_sweep.run().sent == 1
    assert live.notice_sweep.run().sent == 0
    [reminder] = [m.text for m in phone.outbound()[before:]]
    assert reminder.startswith("Reminder: ") and "drop my sign-up" in reminder

    [confirm] = phone.text("I can't make it anymore, please drop my sign-up")
    assert confirm.startswith("Drop your sign-up for") and menu_lines(confirm) == ["Yes", "No"]
    [dropped] = phone.text("1")
    assert dropped.startswith("Done: you're off the list")
    [none] = phone.text("what am i signed up for?")
    assert code not in none


def test_a_question_in_the_middle_is_answered_and_never_mind_leaves(live: Services) -> None:
    phone = Phone(live)
    phone.text("what meetings are coming up?")
    [ask_name] = phone.text("1")
    assert ASK_NAME.match(ask_name), ask_name
    replies = phone.text("how do i get a copy of a police report?")
    assert len(replies) == 2 and replies[-1] == ask_name, replies
    [left] = phone.text("never mind, forget it")
    assert left.startswith("OK, I stopped. Nothing was saved.")


def test_spanish_list_with_spanish_dates(live: Services) -> None:
    phone = Phone(live)
    [listing] = phone.text("¿qué reuniones comunitarias hay en las próximas semanas?")
    assert listing.startswith(normalize_gsm("Próximas reuniones. Elija una para inscribirse:"))
    days = {normalize_gsm(d) for d in ("lun", "mar", "mié", "jue", "vie", "sáb", "dom")}
    assert all(line.split(" ", 1)[0] in days for line in menu_lines(listing)[:3]), listing


def test_a_spanish_sign_up_by_sms(live: Services, redis_server: LocalRedis) -> None:
    phone = Phone(live)
    [ask_meeting] = phone.text("quiero inscribirme en una reunión")
    assert ask_meeting.startswith(normalize_gsm("¿A qué reunión quiere ir?")) and len(menu_lines(ask_meeting)) >= 1
    [ask_name] = phone.text("1")
    named = re.match(r"^Para (.+, .+): " + re.escape(normalize_gsm("¿a nombre de quién hacemos la inscripción?")) + "$",
                     ask_name)
    assert named, ask_name
    [ask_party] = phone.text("me llamo José Núñez")
    assert ask_party == f"Para {named.group(1)}: " + normalize_gsm("¿cuántas personas vienen, contándose usted?")
    [ask_reminders] = phone.text("solo yo")
    assert ask_reminders.startswith(f"Para {named.group(1)}: " + normalize_gsm("¿quiere recordatorios"))
    [summary] = phone.text("no gracias")
    assert "Personas: 1. Recordatorios: no." in summary
    [done] = phone.text("sí")
    assert done.startswith(normalize_gsm("Listo, está inscrito:")), done
    assert "Núñez" not in tracker_store_text(redis_server) and "Nunez" not in tracker_store_text(redis_server)


def test_a_question_instead_of_the_name_is_answered_and_the_name_asked_again(live: Services) -> None:
    """The pipeline asks the real Rasa's NLU (/model/parse, behind its token) before keeping an
    answer as a name: a question goes to Rasa, which answers it and asks for the name again."""
    phone = Phone(live)
    [ask_name] = phone.text("sign me up for the next town hall")
    assert ASK_NAME.match(ask_name), ask_name
    replies = phone.text("what is neighborhood watch")  # reads like a name: four words, letters only
    assert any(live.profile.links["neighborhood_watch"] in reply for reply in replies), replies
    assert replies[-1] == ask_name
    assert phone.conversation.private_answer is None and phone.conversation.expecting == "private_name"
    phone.text("Bo Li")
    assert phone.conversation.private_answer == "Bo Li"
