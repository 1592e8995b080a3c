"""What the demo, the tests, the benchmarks and the `sandbox` commands do to the sandbox's data, as
plain functions, outside the sandbox's APIs (one module a role):

- `account_setup`: create or update accounts of both services, register an app, install it without a
  browser, hand out a static token;
- `seeding`: orders in the pickup status and stocked SKUs on both sides; another customer's stock;
- `order_events`: what the outside world does to orders: the WMS ships them, customers cancel them;
- `fault_setup`: set and read an account's fault injection;
- `status_report`: counts and stock on both sides, recorded shipments and duplicates.
"""

# Rows per bulk statement: bulk inserts and updates keep seeding 10,000 orders and 50,000 SKUs to seconds.
BATCH = 2000
