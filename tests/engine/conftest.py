import pytest

from tests.engine.builders import make_bearer
from vault.models import Connection


@pytest.fixture
def sentinel_bearer(db) -> Connection:
    return make_bearer()
