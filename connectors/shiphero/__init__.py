"""ShipHero (public GraphQL API), one adapter behind `connectors.wms`: everything the hub knows of
its wire, in one folder, one role a module.

- `schema/`: the vendored SDL subset of ShipHero's real schema and its sources (`SOURCE.md`);
- `schema`: that SDL loaded once with graphql-core, and `validate(document)` against it;
- `operations`: every document the client sends, validated against the schema at import;
- `system`: the `WmsSystem` (capabilities, the `order_create` body);
- `client`: `ShipHeroClient`, one account scoped to one warehouse (and customer), implementing
  `connectors.wms.base.WarehouseClient`; the calls only;
- `calls`: one GraphQL call (credits, shared token, errors);
- `token`: the refresh-token exchange and the per-process token cache;
- `credits`: pacing by ShipHero's complexity credits, one bucket per account;
- `errors`: GraphQL `errors` in plain words, mapped to transient/permanent;
- `wire`: pydantic models of the answers and the neutral `WmsOrder` they become;
- `sandbox/`: the sandbox's ShipHero endpoints (built separately).
"""
