"""/healthz: 200 when the database (and Redis, when configured) answer, 503 otherwise."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from .records import database_answers

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    services = current_app.extensions["legalbot"]
    database = "ok" if database_answers(services.engine) else "error"
    if services.config.redis_url:
        try:
            redis = "ok" if services.state.ping() else "error"
        except Exception:  # noqa: BLE001 - any failure to answer is "error"
            redis = "error"
    else:
        redis = "not configured"
    kb = services.knowledge.current()
    healthy = database == "ok" and redis != "error"
    body = {
        "status": "ok" if healthy else "error",
        "database": database,
        "redis": redis,
        "knowledge_base": {"entries": len(kb.entries)},
    }
    return jsonify(body), 200 if healthy else 503
