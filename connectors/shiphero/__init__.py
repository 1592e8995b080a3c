"""ShipHero (public GraphQL API), one adapter behind `connectors.wms`: everything the hub knows of
its wire, in one folder, one role a module.

- `schema/`: the vendored SDL subset of ShipHero's real schema and its sources (`SOURCE.md`);
- `schema`: that SDL loaded once with graphql-core, and `validate(document)` against it;
- `sandbox/`: the sandbox's ShipHero endpoints (built separately).
"""
