"""Policy packs load, validate and say exactly where a broken one is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from policies.loader import PolicyError, available, load_pack, load_pack_file
from policies.model import Condition, Limits, ProjectFacts, holds, is_above_limit
from shixian.cli import main

JIUJIANG = Path(__file__).parents[1] / "policies" / "jiujiang-2024.yaml"


def test_every_shipped_pack_loads() -> None:
    assert "jiujiang-2024" in available()
    for pid in available():
        pack = load_pack(pid)
        assert pack.id == pid
        assert all(o.citation for o in pack.obligations)


def test_every_jiujiang_time_limit_cites_its_article() -> None:
    pack = load_pack("jiujiang-2024")
    cited = {o.id: o.citation for o in pack.obligations}
    assert cited["proposal_submission"] == "九江 第二十五条(一)"
    assert cited["revision_resubmission"] == "九江 第二十五条(三)"
    assert cited["self_evaluation"] == "九江 第三十九条"
    assert all(c.startswith("九江 第") for c in cited.values())
    assert pack.escalation.consequences[0].citation == "九江 第二十七条"


def facts(**kw: object) -> ProjectFacts:
    base: dict[str, object] = {"owner_type": "administrative", "category": "other",
                               "kind": "build", "investment_wan": 500}
    base.update(kw)
    return ProjectFacts.model_validate(base)


def test_thresholds_include_the_number_itself() -> None:
    """Civil Code art. 1259: 以上 includes the number; 小于 does not."""
    limits = Limits(citation="九江 第四十二条",
                    by_category={"infrastructure": 1000, "cross_department": 1000, "other": 500})
    assert is_above_limit(facts(investment_wan=500), limits)
    assert not is_above_limit(facts(investment_wan=499.99), limits)
    assert not is_above_limit(facts(investment_wan=999, category="infrastructure"), limits)
    merged = Condition(investment_wan_gte=200, investment_wan_lt=5000)
    assert holds(merged, facts(investment_wan=200), limits)
    assert not holds(merged, facts(investment_wan=5000), limits)
    either = Condition(any_of=[Condition(major=True), Condition(kind=["service"])])
    assert holds(either, facts(major=True), limits)
    assert not holds(either, facts(), limits)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("    limit: 10wd\n", "    limit: 10wk\n",
         "obligation proposal_submission: limit '10wk'"),
        ("    fulfilled_by: proposal_submitted\n", "    fulfilled_by: proposal_sent\n",
         "obligation proposal_submission: unknown document 'proposal_sent'"),
        ("    actor: data_bureau\n", "    actor: data_office\n", "unknown actor 'data_office'"),
        ("      offset: -3wd\n", "      offset: -3d\n", "counted in working days"),
        ("id: jiujiang-2024\n", "id: jiujiang-2025\n", "does not match the file name"),
        ("    citation: 九江 第二十五条(一)\n", "", "citation"),
    ],
)
def test_a_broken_pack_names_file_rule_and_field(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    text = JIUJIANG.read_text(encoding="utf-8")
    assert old in text
    broken = tmp_path / "jiujiang-2024.yaml"
    broken.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(PolicyError) as info:
        load_pack_file(broken)
    assert str(broken) in str(info.value)
    assert message in str(info.value)


def test_not_yaml_and_unknown_policy(tmp_path: Path) -> None:
    bad = tmp_path / "x.yaml"
    bad.write_text("id: [unclosed\n", encoding="utf-8")
    with pytest.raises(PolicyError, match="not valid YAML"):
        load_pack_file(bad)
    with pytest.raises(PolicyError, match=r"known policies: .*jiujiang-2024"):
        load_pack("chengdu-2099")


def test_policy_cli(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["policy", "list"]) == 0
    assert "jiujiang-2024" in capsys.readouterr().out
    assert main(["policy", "show", "jiujiang-2024"]) == 0
    out = capsys.readouterr().out
    assert "fsr_tech_review" in out and "九江 第二十五条(二)" in out
    assert main(["policy", "check", str(JIUJIANG)]) == 0
    assert "OK" in capsys.readouterr().out
    broken = tmp_path / "jiujiang-2024.yaml"
    broken.write_text(JIUJIANG.read_text(encoding="utf-8").replace("limit: 5wd", "limit: 0wd"),
                      encoding="utf-8")
    assert main(["policy", "check", str(broken)]) == 2
    assert "proposal_approval" in capsys.readouterr().err


def test_a_lapsed_pack_needs_an_explicit_flag_and_shows_as_expired() -> None:
    """九江 第四十五条: the 2024 办法 is valid two years; a project started after 2026-05-23
    is refused unless asked for, and carries 已过有效期 wherever it shows."""
    from datetime import date

    from calendars import WorkCalendar
    from shixian import operations
    from shixian.errors import UserError
    from workflows.models import Project

    proj = Project(id="JJ-LAPSED", name="到期后启动", policy="jiujiang-2024", owner="市测试局",
                   owner_type="administrative", category="other", kind="build",
                   investment_wan=300, started_on=date(2026, 9, 30))
    calendar = WorkCalendar.default(use_env=False)
    with pytest.raises(UserError, match=r"expired on 2026-05-23.*--allow-expired-policy"):
        operations.prepare(proj, calendar, date(2026, 11, 23))
    inp = operations.prepare(proj, calendar, date(2026, 11, 23), frozenset({"expired"}))
    before = proj.model_copy(update={"id": "JJ-IN-FORCE", "started_on": date(2026, 5, 22)})
    assert operations.prepare(before, calendar, date(2026, 11, 23)).pack.id == "jiujiang-2024"
    from workflows.ledger import Ledger
    from workflows.models import LedgerState

    ledger = Ledger(inp.project, inp.pack, WorkCalendar.from_snapshot(inp.calendar),
                    LedgerState())
    status = ledger.status(__import__("datetime").datetime(2026, 11, 23, 4,
                                                           tzinfo=__import__("datetime").UTC))
    assert status.policy_status == "expired"
    assert status.policy_note is not None and "第四十五条" in status.policy_note

def test_a_draft_pack_needs_an_explicit_flag() -> None:
    """玉山 is a 征求意见稿: starting a project under it is refused unless asked for."""
    from datetime import date

    from calendars import WorkCalendar
    from shixian import operations
    from shixian.errors import UserError
    from workflows.models import Project

    proj = Project(id="YS-DRAFT", name="草案项目", policy="yushan-draft", owner="县测试局",
                   owner_type="administrative", category="other", kind="build",
                   investment_wan=80, started_on=date(2026, 9, 30))
    calendar = WorkCalendar.default(use_env=False)
    with pytest.raises(UserError, match=r"征求意见稿.*--allow-draft-policy"):
        operations.prepare(proj, calendar, date(2026, 11, 23))
    inp = operations.prepare(proj, calendar, date(2026, 11, 23), frozenset({"draft"}))
    assert inp.pack.status == "draft"


def test_owner_types_are_the_ones_each_text_covers() -> None:
    """相城 第三条 and 玉山 第二条 cover 事业单位 and 人民团体/社会团体; 九江 第二条 covers 行政机关
    and 国资监管企业 (its 授权组织 are recorded as 行政机关): each is checked on start."""
    from datetime import date

    from calendars import WorkCalendar
    from shixian import operations
    from shixian.errors import UserError
    from shixian.projects_file import CONVERT
    from workflows.models import Project

    assert CONVERT["owner_type"]("事业单位") == "public_institution"
    assert CONVERT["owner_type"]("社会团体") == "social_organisation"
    calendar = WorkCalendar.default(use_env=False)
    school = Project(id="XC-SCHOOL", name="区学校信息化", policy="xiangcheng-2018",
                     owner="区实验学校", owner_type="public_institution", category="other",
                     kind="build", investment_wan=120, started_on=date(2026, 3, 2),
                     facts={"planned_start_on": date(2026, 6, 1)})
    assert operations.prepare(school, calendar, date(2026, 11, 23)).project.owner_type == \
        "public_institution"
    in_jiujiang = school.model_copy(update={"id": "JJ-SCHOOL", "policy": "jiujiang-2024",
                                            "facts": {}})
    with pytest.raises(UserError, match=r"jiujiang-2024 covers 行政机关、国资监管企业 "
                                        r"\(九江 第二条\), not 事业单位"):
        operations.prepare(in_jiujiang, calendar, date(2026, 11, 23), frozenset({"expired"}))
    soe = school.model_copy(update={"id": "XC-SOE", "owner_type": "state_owned"})
    with pytest.raises(UserError, match=r"\(相城 第三条\), not 国资监管企业"):
        operations.prepare(soe, calendar, date(2026, 11, 23))


def test_a_pack_names_its_shipped_text(tmp_path: Path) -> None:
    """`source:` resolves beside the pack, so a fresh clone (no ../shared) has the text."""
    pack = load_pack("jiujiang-2024")
    assert pack.source == "regulations/jiujiang-2024.txt"
    alone = tmp_path / "jiujiang-2024.yaml"
    alone.write_text(JIUJIANG.read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(PolicyError, match=r"source 'regulations/jiujiang-2024.txt' is not a "
                                          r"regulation text beside the pack"):
        load_pack_file(alone)
    (tmp_path / "regulations").mkdir()
    (tmp_path / "regulations" / "jiujiang-2024.txt").write_text("第一条 …\n", encoding="utf-8")
    assert load_pack_file(alone).id == "jiujiang-2024"
    outside = JIUJIANG.read_text(encoding="utf-8").replace(
        "source: regulations/", "source: ../regulations/", 1)
    alone.write_text(outside, encoding="utf-8")
    with pytest.raises(PolicyError, match="beside the pack"):
        load_pack_file(alone)


def test_a_pack_is_checked_when_built_from_data_not_again_inside_each_input() -> None:
    """The cross-reference check runs when a pack is built from data (a file, a decoded
    workflow input). A pack object given to a workflow input is the checked one: pydantic
    runs after-validators on instances too, and `shixian start` paid the check again for
    each of 10,000 inputs. So an input takes the pack object as it is."""
    from datetime import date

    from calendars import WorkCalendar
    from shixian import operations
    from workflows.models import LifecycleInput, Project

    pack = load_pack("jiujiang-2024")
    broken = pack.model_copy(update={"starts_with": "no_such_document"})  # built unchecked
    with pytest.raises(ValueError, match="starts_with: unknown document 'no_such_document'"):
        type(pack).model_validate(broken.model_dump())
    proj = Project(id="JJ-ONCE", name="检查一次", policy="jiujiang-2024", owner="市测试局",
                   owner_type="administrative", category="other", kind="build",
                   investment_wan=300, started_on=date(2026, 5, 4))
    snapshot = operations.calendar_snapshot(WorkCalendar.default(use_env=False), proj.started_on)
    inp = LifecycleInput(project=proj, pack=broken, calendar=snapshot)
    assert inp.pack is broken
    with pytest.raises(ValueError, match="starts_with: unknown document"):  # decoded: checked
        LifecycleInput.model_validate_json(inp.model_dump_json())
