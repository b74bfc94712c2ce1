"""Loading packages: parsing, XSD, DOCTYPE refusal, lint rules, content hash, spec cache."""

from __future__ import annotations

import pytest

from engine import ProcessLoadError, load_directory, load_package
from engine.loader import specs_for
from tests.engine.engine_support import FIXTURES, FORMS, lane_role, load

SIMPLE = (FIXTURES / "simple.bpmn").read_text(encoding="utf-8")
DMN = {"priority.dmn": (FIXTURES / "priority.dmn").read_text(encoding="utf-8")}


def load_text(text: str, dmn: dict[str, str] | None = None, forms: set[str] = FORMS):
    return load_package(
        text, DMN if dmn is None else dmn, forms=forms, lane_role=lane_role, filename="simple.bpmn"
    )


def problems_of(excinfo: pytest.ExceptionInfo[ProcessLoadError]) -> list[tuple[str | None, str | None, str]]:
    return [(p.file, p.element_id, p.message) for p in excinfo.value.problems]


def test_package_describes_the_process() -> None:
    package = load("simple")
    assert package.process_id == "simple"
    assert package.name == "简单事件"
    assert package.start_task == "record"
    assert package.lanes == {"服务台 (service_desk)": "service_desk", "一线支持 (support_l1)": "support_l1"}
    record = package.user_tasks["record"]
    assert (record.lane, record.role, record.form) == ("服务台 (service_desk)", "service_desk", "record.json")
    assert record.documentation == "Record the incident."
    assert set(package.files) == {"simple.bpmn", "priority.dmn"}


def test_content_hash_covers_bpmn_and_referenced_dmn_only() -> None:
    base = load_text(SIMPLE)
    assert load_text(SIMPLE).content_hash == base.content_hash
    extra = {**DMN, "unused.dmn": DMN["priority.dmn"].replace("priority_decision", "other")}
    assert load_text(SIMPLE, extra).content_hash == base.content_hash
    changed_dmn = {"priority.dmn": DMN["priority.dmn"].replace('"P4"', '"P3"')}
    assert load_text(SIMPLE, changed_dmn).content_hash != base.content_hash
    assert load_text(SIMPLE.replace("调查和分析", "调查")).content_hash != base.content_hash


def test_cached_spec_is_reused() -> None:
    package = load("simple")
    assert specs_for(package) is specs_for(package)
    assert specs_for(load("simple")) is not None


def test_load_directory_reports_every_broken_file(tmp_path) -> None:
    (tmp_path / "simple.bpmn").write_text(SIMPLE, encoding="utf-8")
    (tmp_path / "priority.dmn").write_text(DMN["priority.dmn"], encoding="utf-8")
    assert set(load_directory(tmp_path, forms=FORMS, lane_role=lane_role)) == {"simple"}
    (tmp_path / "broken.bpmn").write_text(
        SIMPLE.replace('id="simple"', 'id="broken"').replace("record.json", "nope.json"), encoding="utf-8"
    )
    with pytest.raises(ProcessLoadError) as excinfo:
        load_directory(tmp_path, forms=FORMS, lane_role=lane_role)
    assert ("broken.bpmn", "record", "the user task's form 'nope.json' is not in forms/") in problems_of(
        excinfo
    )


def test_doctype_is_refused() -> None:
    text = SIMPLE.replace(
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<?xml version="1.0"?>\n<!DOCTYPE definitions SYSTEM "http://example.com/x.dtd">',
    )
    with pytest.raises(ProcessLoadError, match="DOCTYPE") as excinfo:
        load_text(text)
    assert excinfo.value.file == "simple.bpmn"


def test_billion_laughs_is_refused_without_expansion() -> None:
    entities = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10)
    )
    text = f'<?xml version="1.0"?><!DOCTYPE lolz [{entities}]><lolz>&lol9;</lolz>'
    with pytest.raises(ProcessLoadError, match="DOCTYPE or ENTITY"):
        load_text(text)
    with pytest.raises(ProcessLoadError, match="DOCTYPE or ENTITY"):
        load_text(SIMPLE, {"priority.dmn": text})


def test_malformed_xml_names_the_line() -> None:
    with pytest.raises(ProcessLoadError, match="not well-formed XML .line 4"):
        load_text(SIMPLE.replace("<bpmn:laneSet", "<bpmn:laneSet <"))


def test_xsd_error_names_file_element_and_line() -> None:
    text = SIMPLE.replace('<bpmn:userTask id="investigate"', '<bpmn:userTask id="investigate" bogus="1"')
    with pytest.raises(ProcessLoadError) as excinfo:
        load_text(text)
    problem = excinfo.value.problems[0]
    assert problem.file == "simple.bpmn"
    assert problem.element_id == "investigate"
    assert "bogus" in problem.message and "line" in problem.message


@pytest.mark.parametrize(
    ("change", "element", "fragment"),
    [
        (('value="record.json"', 'value="missing.json"'), "record", "form 'missing.json' is not in forms/"),
        (
            ('<spiffworkflow:property name="formJsonSchemaFilename" value="resolve.json" />', ""),
            "resolve",
            "names no form",
        ),
        (("<bpmn:flowNodeRef>investigate</bpmn:flowNodeRef>", ""), "investigate", "not in a lane"),
        (('name="一线支持 (support_l1)"', 'name="Nobody (ghost)"'), "lane_l1", "does not name a known role"),
        (("priority_decision", "unknown_decision"), "classify", "decision 'unknown_decision' is in no DMN"),
        (("not desk_can_fix</", "not desk_can_fix +</"), "f_l1", "not a valid expression"),
    ],
)
def test_lint_problem_names_file_element_and_remedy(
    change: tuple[str, str], element: str, fragment: str
) -> None:
    old, new = change
    assert old in SIMPLE
    with pytest.raises(ProcessLoadError) as excinfo:
        load_text(SIMPLE.replace(old, new))
    matching = [p for p in excinfo.value.problems if p.element_id == element and fragment in p.message]
    assert matching, problems_of(excinfo)
    assert matching[0].file == "simple.bpmn"
    assert matching[0].hint


def test_all_problems_are_listed_at_once() -> None:
    text = SIMPLE.replace('value="record.json"', 'value="a.json"').replace(
        'value="resolve.json"', 'value="b.json"'
    )
    with pytest.raises(ProcessLoadError) as excinfo:
        load_text(text)
    assert {p.element_id for p in excinfo.value.problems} == {"record", "resolve"}
    assert "2 problems" in str(excinfo.value)


def test_dmn_lint_refuses_unsupported_hit_policy_and_bad_cells() -> None:
    bad = (
        DMN["priority.dmn"]
        .replace('hitPolicy="UNIQUE"', 'hitPolicy="ANY"')
        .replace("<text>&lt; 3</text>", "<text>&lt; &lt; 3</text>")
    )
    with pytest.raises(ProcessLoadError) as excinfo:
        load_text(SIMPLE, {"priority.dmn": bad})
    found = problems_of(excinfo)
    assert ("priority.dmn", "priority_table", "the hit policy ANY is not supported") in found
    assert any(p[1] == "r1" and "not a valid expression" in p[2] for p in found)


def test_process_id_must_match_file_name() -> None:
    with pytest.raises(ProcessLoadError, match="differs from the file name"):
        load_package(SIMPLE, DMN, forms=FORMS, lane_role=lane_role, filename="other.bpmn")


def test_broken_unreferenced_dmn_only_fails_the_directory(tmp_path) -> None:
    bomb = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "a">]><x>&a;</x>'
    assert load_text(SIMPLE, {**DMN, "other.dmn": bomb}).process_id == "simple"
    (tmp_path / "simple.bpmn").write_text(SIMPLE, encoding="utf-8")
    (tmp_path / "priority.dmn").write_text(DMN["priority.dmn"], encoding="utf-8")
    (tmp_path / "other.dmn").write_text(bomb, encoding="utf-8")
    with pytest.raises(ProcessLoadError) as excinfo:
        load_directory(tmp_path, forms=FORMS, lane_role=lane_role)
    assert [p.file for p in excinfo.value.problems] == ["other.dmn"]
