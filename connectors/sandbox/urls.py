"""URLs of the sandbox: /sandbox/order-manager/... and /sandbox/warehouse-manager/..."""
urlpatterns = []
