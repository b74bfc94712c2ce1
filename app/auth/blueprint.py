"""The ``auth`` blueprint object, on which the view modules of this package register their routes."""

from flask import Blueprint

bp = Blueprint("auth", __name__)
