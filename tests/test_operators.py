"""hub.operators: how an operator is named in the audit trail."""

from hub.operators import operator_name
from tests import factories


def test_operator_name_without_full_name(db):
    assert operator_name(factories.UserFactory(username="dave")) == "dave"


def test_operator_name_with_full_name(db):
    user = factories.UserFactory(username="dave", first_name="Dave", last_name="Bowman")
    assert operator_name(user) == "dave (Dave Bowman)"
