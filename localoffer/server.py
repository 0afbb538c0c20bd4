"""`localoffer serve`: gunicorn in front of the Flask app (Flask's server only with --debug)."""

from __future__ import annotations

from typing import Any

from localoffer.config import Settings


def run_server(settings: Settings, *, debug: bool = False) -> None:
    """Serve the publisher app until interrupted."""
    from localoffer.publisher import create_app

    if debug:
        create_app(settings=settings).run(host=settings.host, port=settings.port, debug=True)
        return
    from gunicorn.app.base import BaseApplication

    class App(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            options: dict[str, Any] = {
                "bind": f"{settings.host}:{settings.port}",
                "workers": settings.workers,
                "threads": settings.threads,
                "worker_class": "gthread",
                "timeout": int(settings.query_timeout) + 30,
                "graceful_timeout": 10,
                "accesslog": "-",
                "errorlog": "-",
            }
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            return create_app(settings=settings)

    App().run()
