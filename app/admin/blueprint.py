"""The ``admin`` blueprint object, on which the view modules of this package register their routes."""

from flask import Blueprint

bp = Blueprint("admin", __name__)
