"""Signing in to the staff console from Flask's test client, the way a browser does: fetch the
sign-in page (its form token and cookie), post the form, keep the session cookie."""
from __future__ import annotations

import re

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from bot.services import Services
from bot.storage.models import StaffAccount

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def add_account(services: Services, username: str, password: str, role: str = "staff") -> StaffAccount:
    return services.staff_accounts.create(username, password, role)


def form_token(html: str) -> str:
    match = CSRF.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def sign_in(client: FlaskClient, username: str, password: str) -> TestResponse:
    page = client.get("/staff/sign-in")
    return client.post("/staff/sign-in", data={"username": username, "password": password,
                                               "csrf_token": form_token(page.get_data(as_text=True))})


def signed_in(client: FlaskClient, username: str, password: str) -> str:
    """Signs in and returns the session's CSRF token (every staff form carries it)."""
    response = sign_in(client, username, password)
    assert response.status_code == 303, response.get_data(as_text=True)
    return token(client)


def token(client: FlaskClient) -> str:
    return form_token(client.get("/staff/", headers={"Accept": "text/html"}).get_data(as_text=True))
