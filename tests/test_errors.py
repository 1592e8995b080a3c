"""connectors.errors: the transient/permanent split, redacted excerpts, pickling."""

import pickle

import pytest

from connectors import errors


@pytest.mark.parametrize(
    "cls,transient",
    [
        (errors.NetworkError, True),
        (errors.ServerError, True),
        (errors.RateLimited, True),
        (errors.AuthenticationError, False),
        (errors.NotFound, False),
        (errors.RequestRejected, False),
        (errors.MalformedResponse, False),
    ],
)
def test_every_error_says_whether_it_is_worth_retrying(cls, transient):
    exc = cls("plain words")
    assert exc.transient is transient
    assert isinstance(exc, errors.TransientError if transient else errors.PermanentError)
    assert isinstance(exc, errors.ConnectorError) and str(exc) == "plain words"


def test_body_excerpt_is_redacted_and_capped_and_path_loses_its_query():
    exc = errors.RequestRejected(
        "rejected",
        status=400,
        method="post",
        path="/oauth/token?code=abc",
        body_excerpt='{"password": "hunter2"} ' + "x" * 2000,
        details={"access_token": "tok", "errors": [1]},
    )
    assert "hunter2" not in exc.body_excerpt and len(exc.body_excerpt) < 600
    assert exc.method == "POST" and exc.path == "/oauth/token"
    assert exc.details == {"access_token": "***", "errors": [1]}


def test_pickle_keeps_state():
    exc = errors.RateLimited("slow down", status=429, retry_after=1.5, body_excerpt="{}", path="/v1/x")
    copy = pickle.loads(pickle.dumps(exc))
    assert type(copy) is errors.RateLimited
    assert (copy.status, copy.retry_after, copy.path, copy.transient) == (429, 1.5, "/v1/x", True)


class _WithExtra(errors.PermanentError):
    """A subclass that adds state and declares no pickling of its own."""

    def __init__(self, message, *, order_ref, **kwargs):
        super().__init__(message, **kwargs)
        self.order_ref = order_ref


def test_pickle_keeps_a_subclass_attribute_and_the_excerpt_as_it_was():
    exc = _WithExtra("refused", order_ref="R-7", status=400, body_excerpt='{"token": "t"} ' + "x" * 2000)
    copy = pickle.loads(pickle.dumps(exc))
    assert type(copy) is _WithExtra and copy.order_ref == "R-7" and copy.args == ("refused",)
    # redacted and capped once, when it was built: unpickling leaves the excerpt as it was
    assert copy.body_excerpt == exc.body_excerpt and copy.status == 400
