"""Work off the request: the job queue, the outbox's delivery, bulk exports and the organisers' jobs pages."""

from flask import Blueprint, Flask

bp = Blueprint("jobs", __name__)


def init_app(app: Flask) -> None:
    from . import queue

    queue.init_app(app)
    app.register_blueprint(bp)


from . import views  # noqa: E402,F401  (routes attach to bp)
