"""The sandbox's 3PL Warehouse Manager endpoints, by group (routes in connectors/sandbox/urls.py; state in the sandbox app's models)."""
