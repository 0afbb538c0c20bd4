"""The landing page: what the dataset is, what it holds, and how to query it."""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template, request

from localoffer.statistics import collect

from . import get_settings, get_store

bp = Blueprint("pages", __name__)


@bp.route("/")
def home():  # type: ignore[no-untyped-def]
    """Counts per authority and links; JSON for programs that ask for it."""
    data = collect(get_store(), get_settings())
    if request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json":
        return jsonify(data)
    return render_template("home.html", data=data, base=get_settings().base)
