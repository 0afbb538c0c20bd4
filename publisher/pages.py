"""The landing page: what the dataset is, what it holds, and how to query it."""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template, request

from localoffer.statistics import collect, need_table

from . import get_settings, get_store

bp = Blueprint("pages", __name__)


@bp.route("/")
def home():  # type: ignore[no-untyped-def]
    """Counts per authority and need area (kept with the store version) and links; JSON for
    programs that ask for it."""
    data = collect(get_store(), get_settings())
    if request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json":
        return jsonify(data)
    need_rows = list(zip(data["authorities"], (counts for _, counts in need_table(data)), strict=True))
    return render_template("home.html", data=data, need_rows=need_rows, base=get_settings().base)
