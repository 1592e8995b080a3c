"""connectors.wms.errors: the two refusals the jobs act on, shared by every WMS adapter."""

import pickle

from connectors.errors import PermanentError
from connectors.wms import errors
from connectors.wms.orders import WmsOrder


def test_duplicate_carries_the_existing_order_and_survives_pickling():
    existing = WmsOrder(
        order_id=7, reference_num="R", status=0, is_closed=False, etag=None, last_modified=None, ship_date=None
    )
    exc = errors.DuplicateOrder("already there", existing=existing, status=400)
    assert isinstance(exc, PermanentError) and not exc.transient
    again = pickle.loads(pickle.dumps(exc))
    assert again.existing == existing and again.status == 400


def test_not_cancellable_reason_defaults_to_the_message():
    assert errors.OrderNotCancellable("shipped").reason == "shipped"
    assert errors.OrderNotCancellable("no", reason="closed/shipped").reason == "closed/shipped"
