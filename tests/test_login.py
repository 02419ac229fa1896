"""The login page lets only staff accounts in, and says so to an account that is not staff."""

import pytest
from django.contrib.auth import SESSION_KEY
from django.urls import reverse

from tests.conftest import STAFF_PASSWORD, make_user

NOT_STAFF = "This account may not use Flow Designer: ask an administrator for staff access."
WRONG = "Please enter a correct username and password."


def log_in(client, username: str, password: str = STAFF_PASSWORD):
    return client.post(reverse("login"), {"username": username, "password": password})


@pytest.mark.django_db
def test_staff_logs_in(client):
    make_user("admin")
    response = log_in(client, "admin")
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert SESSION_KEY in client.session


@pytest.mark.django_db
def test_an_account_that_is_not_staff_is_refused_with_a_clear_message(client):
    make_user("outsider", staff=False, superuser=False)
    response = log_in(client, "outsider")
    assert response.status_code == 200
    assert NOT_STAFF in response.text
    assert 'role="alert"' in response.text
    assert SESSION_KEY not in client.session


@pytest.mark.django_db
def test_a_wrong_password_says_nothing_about_the_account(client):
    make_user("outsider", staff=False, superuser=False)
    response = log_in(client, "outsider", "wrong")
    assert WRONG in response.text
    assert NOT_STAFF not in response.text
    assert SESSION_KEY not in client.session


@pytest.mark.django_db
def test_an_inactive_staff_account_gets_the_usual_refusal(client):
    user = make_user("former")
    user.is_active = False
    user.save()
    response = log_in(client, "former")
    assert WRONG in response.text
    assert SESSION_KEY not in client.session
