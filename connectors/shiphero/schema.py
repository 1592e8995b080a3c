"""ShipHero's schema, vendored: the SDL subset in `schema/shiphero.graphql` (sources in
`schema/SOURCE.md`) built once per process with graphql-core, and the check every document the
hub sends (and every document the sandbox receives) goes through.

`validate` runs graphql-core's full standard rule set (unknown fields and arguments, wrong
argument and variable types, missing required arguments, undefined variables...), so a query
the real API would refuse by its schema is refused here too; the subset can only be stricter
than the real schema (a field it leaves out is refused), never looser.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from graphql import DocumentNode, GraphQLError, GraphQLSchema, build_schema, parse
from graphql import validate as graphql_validate

SDL_PATH = Path(__file__).resolve().parent / "schema" / "shiphero.graphql"


@cache
def schema() -> GraphQLSchema:
    """The vendored schema, built (and itself validated by graphql-core) once per process."""
    return build_schema(SDL_PATH.read_text(encoding="utf-8"))


def validate(document: DocumentNode | str) -> list[GraphQLError]:
    """Every error the schema finds in `document` (text or parsed); [] when it is valid.

    A syntax error comes back as one GraphQLError in the list, not as an exception, so a caller
    handles refusals one way (the sandbox answers them as GraphQL `errors`).
    """
    if isinstance(document, str):
        try:
            document = parse(document)
        except GraphQLError as error:
            return [error]
    return list(graphql_validate(schema(), document))
