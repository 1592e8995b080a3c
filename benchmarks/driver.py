"""`python -m benchmarks.driver MODULE.FUNCTION '{"kwarg": ...}'`: call one benchmark function in a
fresh Django process and print its JSON-ready result on a line starting with `RESULT `.

A fresh process per measurement keeps peak-memory figures (ru_maxrss) and import costs honest and
lets each benchmark point DATABASE_URL at its own database.
"""

import json
import sys


def main() -> None:
    import django

    django.setup()
    import importlib

    module_name, function_name = sys.argv[1].rsplit(".", 1)
    function = getattr(importlib.import_module(f"benchmarks.{module_name}"), function_name)
    result = function(**json.loads(sys.argv[2] if len(sys.argv) > 2 else "{}"))
    print("RESULT " + json.dumps(result, default=str), flush=True)


if __name__ == "__main__":
    main()
