"""The knowledge base: submit with documents, review, publish, search inside attachments, count views."""

from __future__ import annotations

import io
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Article
from app.services import registries
from app.services.errors import InvalidInput
from app.services.registries import MAX_ATTACHMENT_BYTES
from tests.conftest import make_app, prepare_database, sign_in, user
from tests.documents import docx, xlsx, zip_bomb

EN = {"Accept-Language": "en"}
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _submit(client, files=(), **fields):
    data = {"title": "机房空调告警处理", "category": "hardware", "body": "先检查回风温度。", **fields}
    data["attachments"] = [(io.BytesIO(content), name) for name, content in files]
    return client.post("/kb/new", data=data, content_type="multipart/form-data", headers=EN)


def _key(response) -> str:
    assert response.status_code == 302, response.get_data(as_text=True)[:400]
    return response.headers["Location"].rsplit("/", 1)[1]


def test_anyone_submits_with_documents_and_only_author_and_knowledge_roles_see_it(as_user):
    author = as_user("requester")
    files = [
        ("空调巡检.docx", docx("回风温度超过 27 度", "检查冷凝器 CONDENSER-7")),
        ("备件.xlsx", xlsx("压缩机 K-42")),
    ]
    key = _key(_submit(author, files))
    page = author.get(f"/kb/{key}", headers=EN).get_data(as_text=True)
    assert "Temporary" in page and "空调巡检.docx" in page and "备件.xlsx" in page
    assert as_user("desk").get(f"/kb/{key}").status_code == 403
    assert as_user("knowledge_operator").get(f"/kb/{key}").status_code == 200
    attachments = author.get(f"/api/v1/articles/{key}").get_json()["attachments"]
    word = attachments[0]
    download = author.get(word["url"])
    assert download.status_code == 200 and download.data == files[0][1]
    assert download.headers["Content-Type"] == DOCX
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert "filename*=UTF-8''" in download.headers["Content-Disposition"]
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert as_user("desk").get(word["url"]).status_code == 403
    assert as_user("knowledge_manager").get(f"/kb/{key}/attachments/{word['id']}").status_code == 200


def test_review_publish_reject_and_retire_are_for_knowledge_roles(as_user, app):
    author = as_user("requester")
    key = _key(_submit(author))
    operator, manager = as_user("knowledge_operator"), as_user("knowledge_manager")
    assert author.post(f"/api/v1/articles/{key}/publish", json={}).status_code == 403
    assert operator.post(f"/api/v1/articles/{key}/publish", json={}).status_code == 403
    assert operator.post(f"/api/v1/articles/{key}/reject", json={}).status_code == 422
    assert operator.post(f"/kb/{key}/reject", data={"comment": "请补充型号"}).status_code == 302
    assert "请补充型号" in author.get(f"/kb/{key}").get_data(as_text=True)
    edited = {"title": "机房空调告警处理（精密空调）", "category": "hardware", "body": "型号 Liebert PEX"}
    assert author.post(f"/kb/{key}/edit", data=edited).status_code == 302
    assert manager.post(f"/kb/{key}/publish", data={"comment": ""}).status_code == 302
    with app.app_context():
        article = db.session.scalar(select(Article).where(Article.key == key))
        assert (article.state, article.reviewer, article.title) == (
            "formal",
            "knowledge_manager",
            "机房空调告警处理（精密空调）",
        )
        assert article.published_at is not None
    assert as_user("desk").get(f"/kb/{key}").status_code == 200  # formal: everyone reads
    assert author.get(f"/kb/{key}/edit").status_code == 403  # the author's part ended with publishing
    assert author.post(f"/api/v1/articles/{key}/retire").status_code == 403
    assert manager.post(f"/api/v1/articles/{key}/publish", json={}).status_code == 409
    assert manager.post(f"/api/v1/articles/{key}/retire").get_json()["state"] == "retired"
    assert as_user("desk").get(f"/kb/{key}").status_code == 403


def test_search_finds_words_inside_attachments_and_hides_others_temporary_articles(as_user):
    author = as_user("l1")
    files = [("步骤.docx", docx("重启 BLUEFROG 服务")), ("清单.xlsx", xlsx("REDOTTER 序列号"))]
    key = _key(_submit(author, files, title="服务重启", body="见附件"))
    for word in ("BLUEFROG", "redotter"):  # case does not matter
        found = author.get(f"/api/v1/articles?q={word}").get_json()["items"]
        assert [item["key"] for item in found] == [key]
    assert (
        as_user("desk").get("/api/v1/articles?q=BLUEFROG").get_json()["items"] == []
    )  # temporary, not theirs
    as_user("knowledge_manager").post(f"/api/v1/articles/{key}/publish", json={})
    page = as_user("desk").get("/kb/?q=BLUEFROG", headers=EN).get_data(as_text=True)
    assert key in page and "服务重启" in page
    assert (
        as_user("desk").get("/api/v1/articles?q=50%25").get_json()["total"] == 0
    )  # % is literal, not a wildcard
    by_category = as_user("desk").get("/api/v1/articles?category=security").get_json()
    assert [item["title"] for item in by_category["items"]] == ["VPN 客户端无法连接的常见原因"]


def test_each_view_of_a_formal_article_is_counted(as_user):
    desk = as_user("desk")
    key = desk.get("/api/v1/articles?q=VPN").get_json()["items"][0]["key"]
    before = desk.get("/api/v1/articles?q=VPN").get_json()["items"][0]["views"]  # lists do not count
    for _ in range(3):
        assert desk.get(f"/kb/{key}").status_code == 200
    assert desk.get(f"/api/v1/articles/{key}").get_json()["views"] == before + 4
    temporary = _key(_submit(desk))
    desk.get(f"/kb/{temporary}")
    assert desk.get(f"/api/v1/articles/{temporary}").get_json()["views"] == 0  # temporary: not counted


@pytest.mark.parametrize(
    ("name", "content", "why"),
    [
        ("说明.docx", "这不是 Word 文档".encode(), "not a ZIP package"),
        ("bomb.docx", None, "unpacks to too much data"),
        ("setup.exe", b"MZ\x90\x00\x03", "only .txt, .docx and .xlsx"),
        ("表格.docx", xlsx("x"), "is not a Word document"),
        ("doc.docx", docx(document_xml='<!DOCTYPE x [<!ENTITY a "b">]><w:document/>'), "DOCTYPE"),
        ("gbk.txt", "中文".encode("gbk"), "not UTF-8"),
    ],
)
def test_documents_are_checked_by_content_and_refused_with_the_files_name(as_user, app, name, content, why):
    client = as_user("requester")
    response = _submit(client, [("ok.txt", b"fine"), (name, content or zip_bomb())], title="拒绝测试")
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert name in text and why in text
    with app.app_context():  # one bad file rejects the whole submission
        assert db.session.scalar(select(Article).where(Article.title == "拒绝测试")) is None


def test_size_limit_and_attachments_added_later(as_user, app):
    with app.app_context(), pytest.raises(InvalidInput) as too_big:
        registries.submit_article(
            user("requester"),
            {"title": "t", "category": "other"},
            files=[("big.txt", b"a" * (MAX_ATTACHMENT_BYTES + 1))],
        )
    assert "big.txt" in str(too_big.value.message)
    client = as_user("requester")
    key = _key(_submit(client))
    url = f"/api/v1/articles/{key}/attachments"
    note = {"attachments": [(io.BytesIO(b"note"), "a.txt")]}
    added = client.post(url, data=note, content_type="multipart/form-data")
    assert (
        added.status_code == 201
        and added.get_json()["items"][0]["content_type"] == "text/plain; charset=utf-8"
    )
    other = {"attachments": [(io.BytesIO(b"x"), "b.txt")]}
    assert as_user("desk").post(url, data=other, content_type="multipart/form-data").status_code == 403


def test_bodies_are_escaped_and_only_simple_markdown_becomes_markup(as_user):
    client = as_user("requester")
    body = (
        "# 步骤\n<script>alert('x')</script>\n\n- **重启** `svc <b>`\n- [手册](https://example.org/a?b=1&c=2)\n"
        "- [坏链接](javascript:alert(1))\n\n<img src=x onerror=alert(1)>"
    )
    key = _key(_submit(client, body=body))
    page = client.get(f"/kb/{key}").get_data(as_text=True)
    article = page.split('class="panel article-body"', 1)[1].split("</article>", 1)[0]
    assert "<script>alert" not in page and "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in article
    assert (
        "<h3>步骤</h3>" in article
        and "<strong>重启</strong>" in article
        and "<code>svc &lt;b&gt;</code>" in article
    )
    assert (
        '<a href="https://example.org/a?b=1&amp;c=2" rel="nofollow noopener noreferrer">手册</a>' in article
    )
    assert (
        "javascript:" not in article.split("<a ", 1)[-1].split(">", 1)[0]
        and 'href="javascript' not in article
    )
    assert "<img" not in article and "&lt;img src=x onerror=alert(1)&gt;" in article


@pytest.fixture
def pg_app(fresh_postgres_db):
    application = make_app(fresh_postgres_db)
    prepare_database(application)
    yield application
    with application.app_context():
        db.engine.dispose()


@pytest.mark.postgres
def test_concurrent_views_are_all_counted_on_postgres(pg_app):
    readers = 12
    clients = []
    for _ in range(readers):
        client = pg_app.test_client()
        assert sign_in(client, "desk").status_code == 302
        clients.append(client)
    with pg_app.app_context():
        article = db.session.scalar(select(Article).where(Article.state == "formal").limit(1))
        key, before = article.key, article.views
    barrier = threading.Barrier(readers)

    def read(client):
        barrier.wait()
        return client.get(f"/kb/{key}").status_code

    with ThreadPoolExecutor(readers) as pool:
        assert list(pool.map(read, clients)) == [200] * readers
    with pg_app.app_context():
        assert db.session.scalar(select(Article.views).where(Article.key == key)) == before + readers
