import pytest
from django.contrib.auth import get_user_model

STAFF_PASSWORD = "correct-horse-battery-staple"


def make_user(username: str = "admin", *, staff: bool = True, superuser: bool = True):
    return get_user_model().objects.create_user(
        username=username, password=STAFF_PASSWORD, is_staff=staff, is_superuser=superuser
    )


@pytest.fixture
def staff_user(db):
    return make_user()


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


@pytest.fixture
def outsider_client(client, db):
    """Logged in, but not staff: every page must answer 403."""
    client.force_login(make_user("outsider", staff=False, superuser=False))
    return client
