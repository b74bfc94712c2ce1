"""Process owners' pages: versions (current marked), a version's diagram, the instance list."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import ProcessVersion
from tests import journey


def text(response) -> str:
    """The body of a response as text."""
    return response.get_data(as_text=True)


def current_incident_version(app) -> int:
    with app.app_context():
        return db.session.scalar(
            select(ProcessVersion.id).where(
                ProcessVersion.process_id == "incident", ProcessVersion.is_current
            )
        )


def test_owner_sees_processes_with_the_current_version_marked(app, as_user):
    owner = as_user("owner")
    version_id = current_incident_version(app)
    page = text(owner.get("/processes/", headers={"Accept-Language": "en"}))
    assert "事件管理" in page and "incident.bpmn" in page and "incident_priority.dmn" in page
    assert f'#{version_id} <span class="badge badge-current">current</span>' in page


def test_version_page_renders_its_diagram(app, as_user):
    owner = as_user("owner")
    version_id = current_incident_version(app)
    page = text(owner.get(f"/processes/versions/{version_id}"))
    assert f'data-xml-url="/processes/versions/{version_id}/diagram.xml"' in page
    assert "/static/vendor/bpmn-viewer.production.min.js" in page
    xml = owner.get(f"/processes/versions/{version_id}/diagram.xml")
    assert xml.status_code == 200 and b"<bpmn:definitions" in xml.data


def test_instance_list_for_owners(as_user):
    requester, owner = as_user("requester"), as_user("owner")
    response = requester.post("/start/incident", data=journey.RAISE)
    assert response.status_code == 302
    page = text(owner.get("/processes/instances", query_string={"process": "incident", "status": "running"}))
    assert "INC-" in page and journey.RAISE["title"] in page
    # Owners oversee every instance, so they can open it.
    assert owner.get(response.headers["Location"]).status_code == 200


def test_process_pages_refuse_other_roles(app, as_user):
    version_id = current_incident_version(app)
    for username in ("requester", "desk", "l1"):
        client = as_user(username)
        for path in ("/processes/", f"/processes/versions/{version_id}", "/processes/instances"):
            assert client.get(path).status_code == 403, (username, path)
