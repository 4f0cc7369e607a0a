"""Piccolo's configuration: the one engine and the one app.

The engine's connection details are filled in at start-up by `backend.db.configure`,
because the embedded server's address is known only once it runs.
"""

from piccolo.conf.apps import AppRegistry
from piccolo.engine.postgres import PostgresEngine


class RundaEngine(PostgresEngine):
    """PostgresEngine that does not connect at import time.

    Piccolo's engine checks the server version and prepares extensions in its
    constructor; Runda's server is not known yet then, and needs no extensions.
    """

    async def check_version(self) -> None:
        return None

    async def prep_database(self) -> None:
        return None


DB = RundaEngine(config={})

APP_REGISTRY = AppRegistry(apps=["backend.piccolo_app"])
