"""The sandbox's Order Manager endpoints, by group (routes in connectors/sandbox/urls.py; state in the sandbox app's models)."""
