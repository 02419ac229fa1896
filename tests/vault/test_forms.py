"""The connection form: how the allowed hosts are split, and names unique whatever their case."""

import pytest
from django.db import IntegrityError, transaction

from tests.vault.conftest import make_connection
from vault.forms import ConnectionForm


def form(**fields) -> ConnectionForm:
    return ConnectionForm({"name": "c", "type": "BEARER", "bearer_token": "t", **fields})


@pytest.mark.parametrize(
    ("typed", "hosts"),
    [
        ("a.example, b.example", ["a.example", "b.example"]),
        ("a.example\nb.example", ["a.example", "b.example"]),
        ("a.example\r\n\r\n b.example ,\n", ["a.example", "b.example"]),
        (" A.Example ,a.example", ["a.example"]),
        ("", []),
    ],
)
def test_it_splits_allowed_hosts_on_commas_and_new_lines(db, typed, hosts):
    f = form(allowed_hosts=typed)
    assert f.is_valid(), f.errors
    assert f.cleaned_data["allowed_hosts"] == hosts


@pytest.mark.parametrize(
    ("typed", "named"),
    [
        ("exa mple.com", "“exa mple.com”"),
        ("a.example, b.example c.example", "“b.example c.example”"),
        ("a.example\tb.example", "“a.example\tb.example”"),
    ],
)
def test_a_host_with_a_space_is_an_error_naming_it(db, typed, named):
    f = form(allowed_hosts=typed)
    assert not f.is_valid()
    assert f.errors["allowed_hosts"] == [
        f"A host cannot contain spaces: {named}. Separate hosts with commas or new lines."
    ]


def test_spaces_and_invalid_hosts_are_both_named(db):
    f = form(allowed_hosts="exa mple.com, bad_host!")
    assert not f.is_valid()
    assert f.errors["allowed_hosts"] == [
        "A host cannot contain spaces: “exa mple.com”. Separate hosts with commas or new lines.",
        "Not a host name or IP address: bad_host!.",
    ]


def test_names_are_unique_whatever_their_case(db):
    make_connection("GitHub")
    f = form(name="github")
    assert not f.is_valid()
    assert f.errors["name"] == ["A connection with this name already exists."]


def test_renaming_a_connection_to_another_case_of_its_own_name_is_allowed(db):
    connection = make_connection("github")
    f = ConnectionForm({"name": "GitHub", "type": "BEARER"}, instance=connection)
    assert f.is_valid(), f.errors
    assert f.save().name == "GitHub"


def test_the_database_refuses_connection_names_that_differ_only_by_case(db):
    make_connection("GitHub")
    with pytest.raises(IntegrityError), transaction.atomic():
        make_connection("GITHUB")
