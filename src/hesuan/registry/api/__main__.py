"""``python -m hesuan.registry.api --db URL --port P``: serve the registry API."""

from hesuan.registry.api.server import main

main()
