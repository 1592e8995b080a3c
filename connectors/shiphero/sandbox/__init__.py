"""ShipHero's public GraphQL API in the sandbox (routes in connectors/sandbox/urls.py, state in
connectors/sandbox/models/shiphero.py, evidence for every choice in EVIDENCE.md)."""
