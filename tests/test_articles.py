"""The five regulation texts parse into their real structure, and every citation resolves."""

from __future__ import annotations

from pathlib import Path

import pytest

from policies.articles import (
    ArticleRef,
    CitationError,
    Regulation,
    check_reference,
    cn_number,
    cn_numeral,
    load_regulation,
    parse_citation,
    parse_regulation,
)
from policies.fidelity import check_citations, citations_in, pack_ids, raw_pack
from policies.loader import PACK_DIR, available, regulation_path

TEXTS = PACK_DIR / "regulations"
# Counted by reading each text: the last article and the number of chapters.
SHAPES = {
    "jiujiang-2024": (45, 9),
    "shangrao-2020": (41, 10),
    "laohekou-2024": (30, 8),
    "xiangcheng-2018": (31, 8),
    "yushan-draft": (19, 6),
}


def text(rid: str) -> Regulation:
    return load_regulation(TEXTS / f"{rid}.txt")


def test_numerals_round_trip() -> None:
    assert [cn_number(s) for s in ("一", "十", "十五", "二十", "二十五", "四十五", "五十",
                                   "九十九", "一百", "一百零一", "一百一十")] == \
        [1, 10, 15, 20, 25, 45, 50, 99, 100, 101, 110]
    assert all(cn_number(cn_numeral(n)) == n for n in range(1, 200))
    assert cn_numeral(25) == "二十五" and cn_numeral(10) == "十"
    with pytest.raises(ValueError, match="not a Chinese numeral"):
        cn_number("二五五")


@pytest.mark.parametrize("rid", sorted(SHAPES))
def test_every_text_has_all_its_articles_in_order(rid: str) -> None:
    reg = text(rid)
    last, chapters = SHAPES[rid]
    assert [a.number for a in reg.articles] == list(range(1, last + 1))
    assert [c.number for c in reg.chapters] == list(range(1, chapters + 1))
    assert reg.articles[0].chapter == 1
    assert all(a.paragraphs and all(p.text or p.items for p in a.paragraphs)
               for a in reg.articles)


def test_shipped_texts_are_the_five() -> None:
    assert sorted(p.stem for p in TEXTS.glob("*.txt")) == sorted(SHAPES)


def test_jiujiang_structure() -> None:
    reg = text("jiujiang-2024")
    # Chapters 一–三 lost their numerals in the web page's list conversion (`1. 总 则`).
    assert [c.title for c in reg.chapters[:4]] == ["总则", "统筹规划", "项目申报", "项目审批"]
    a25 = reg.articles[24]
    assert a25.chapter == 4 and len(a25.paragraphs) == 2
    # (一) became `1.` in the same conversion; (二)–(四) kept their brackets.
    assert [i.number for i in a25.paragraphs[0].items] == [1, 2, 3, 4]
    assert a25.paragraphs[0].items[0].text.startswith("自接到启动通知之日起")
    assert a25.paragraphs[1].text.startswith("投资额小于5000万元")
    a31 = reg.articles[30]
    assert [p.text[:6] for p in a31.paragraphs] == ["项目建成后需", "限额以下项目"]
    assert [len(p.items) for p in reg.articles[21].paragraphs] == [7]  # 第二十二条 (一)–(七)
    # The annex template after 第四十五条 (附件 …, 一、概述, (一)项目概况…) is not in the body.
    a45 = reg.articles[44]
    assert len(a45.paragraphs) == 1 and not a45.paragraphs[0].items
    assert a45.paragraphs[0].text.endswith("同时废止。")


def test_shangrao_page_breaks_do_not_split_paragraphs() -> None:
    reg = text("shangrao-2020")
    a5 = reg.articles[4]  # `…向市大数据发` / blank / `展管理局申报。`
    assert len(a5.paragraphs) == 1 and "向市大数据发展管理局申报。" in a5.paragraphs[0].text
    a7 = reg.articles[6]
    assert len(a7.paragraphs) == 2 and a7.paragraphs[1].text.endswith("不低于3年的免费运维服务。")
    assert "实践工作经验" in reg.articles[33].paragraphs[0].items[1].text
    # `- (一) …;` items (a Markdown list) and a half-width `(二) ` with a space.
    assert [i.number for i in reg.articles[9].paragraphs[0].items] == [1, 2, 3, 4]
    assert reg.articles[36].paragraphs[0].items[1].text.startswith("按照规定出具客观公正")
    # The signature and 印发 date after 第四十一条 are not part of it.
    assert "秘书科" not in reg.articles[40].text and "印发" not in reg.articles[40].text[-6:]


def test_laohekou_xiangcheng_yushan_details() -> None:
    lhk = text("laohekou-2024")
    a23 = lhk.articles[22]
    assert [i.number for i in a23.paragraphs[0].items] == list(range(1, 10))
    assert "不少于一个月" in a23.paragraphs[0].items[1].text
    assert [len(p.items) for p in lhk.articles[6].paragraphs] == [0, 6]  # 第七条 ¶2 (一)–(六)
    xc = text("xiangcheng-2018")
    assert "由区信息办会同建设单位" in xc.articles[18].paragraphs[1].text  # page break
    assert len(xc.articles[19].paragraphs) == 2  # 第二十条: monthly reports; revocation
    assert xc.articles[30].text == "本办法自发文之日起施行。"  # the annexes are not in it
    ys = text("yushan-draft")
    assert ys.articles[0].paragraphs[0].text.startswith("为进一步规范")  # [bookmark: _GoBack]
    assert [i.number for i in ys.articles[3].paragraphs[0].items] == [1, 2, 3, 4]
    assert "对直接负责的主管人员" in ys.articles[15].text  # a line break inside a sentence
    assert ys.articles[18].text == "本办法自公布之日起施行。"


def test_a_text_without_articles_is_an_error() -> None:
    with pytest.raises(Exception, match="no article"):
        parse_regulation("关于印发的通知\n\n各单位：\n", "empty.txt")


@pytest.mark.parametrize(
    ("citation", "refs", "operational"),
    [
        ("九江 第二十五条(一)", ["九江 第二十五条(一)"], 0),
        ("九江 第二十五条(二)(三)", ["九江 第二十五条(二)(三)"], 0),
        ("九江 第二十五条 末段", ["九江 第二十五条 末段"], 0),
        ("九江 第二十五条(二); 第二十六条", ["九江 第二十五条(二)", "九江 第二十六条"], 0),
        ("shixian 运营默认; 九江 第五条 (市数据管理部门 督促检查)", ["九江 第五条"], 1),
        ("九江 第三十一条第二款", ["九江 第三十一条第二款"], 0),
        ("shixian 运营默认 (not a regulation article)", [], 1),
        ("第二十五条（四）", ["九江 第二十五条(四)"], 0),  # full-width, the pack's own prefix
        ("九江 第十六条、第二十七条", ["九江 第十六条", "九江 第二十七条"], 0),
        ("上饶 第十六条 (test pack)", ["上饶 第十六条"], 0),
        ("《民法典》第二百零三条; 九江 第三十一条", ["九江 第三十一条"], 0),  # external: kept
    ],
)
def test_citation_grammar(citation: str, refs: list[str], operational: int) -> None:
    parsed = parse_citation(citation, "九江")
    assert [str(r) for r in parsed.refs] == refs
    assert len(parsed.operational) == operational


@pytest.mark.parametrize("bad", ["九江 二十五条", "九江 第二十五条 the FSR", "九江 第二十五条(一",
                                 "", "九江 第二十五条;"])
def test_an_unreadable_citation_says_the_grammar(bad: str) -> None:
    with pytest.raises(CitationError, match=r"第N条|empty"):
        parse_citation(bad, "九江")


@pytest.mark.parametrize(
    ("citation", "message"),
    [
        ("九江 第九十九条", "has no 第九十九条 (its articles are 第一条–第四十五条)"),
        ("九江 第二十五条(五)", "第二十五条 has no item (五) (its items: (一)–(四))"),
        ("九江 第二十七条(一)", "第二十七条 has no item (一) (its items: none)"),
        ("九江 第三十一条第三款", "第三十一条 has 2 paragraph(s) (款), not 第三款"),
        ("九江 第三十九条 末段", "第三十九条 has one paragraph, so it has no 末段"),
        ("九江 第二十五条第二款(一)", "第二十五条第二款 has no item (一)"),
    ],
)
def test_a_made_up_article_item_or_paragraph_fails_clearly(citation: str, message: str) -> None:
    [ref] = parse_citation(citation, "九江").refs
    problem = check_reference(ref, text("jiujiang-2024"))
    assert problem is not None and message in problem, problem
    assert problem.startswith(f"{ref}: ")


def test_real_references_resolve() -> None:
    reg = text("jiujiang-2024")
    for ref in (ArticleRef("九江", 25, items=(1,)), ArticleRef("九江", 25, ArticleRef.LAST),
                ArticleRef("九江", 31, 2), ArticleRef("九江", 25, 1, (2, 3)),
                ArticleRef("九江", 45)):
        assert check_reference(ref, reg) is None, ref


def test_every_citation_in_every_shipped_pack_resolves() -> None:
    """Walks the raw YAML for every field named `citation`, whatever construct holds it."""
    assert available()
    total = 0
    for pid in available():
        total += sum(1 for _ in citations_in(raw_pack(pid)))
        assert check_citations(pid) == [], pid
        assert regulation_path(pid).is_file()
    assert total >= 20  # the walk reaches obligations, periods, pauses, limits, ladder…


def test_a_pack_citing_a_missing_article_fails(tmp_path: Path) -> None:
    pack = (PACK_DIR / "jiujiang-2024.yaml").read_text(encoding="utf-8")
    (tmp_path / "regulations").mkdir()
    (tmp_path / "regulations" / "jiujiang-2024.txt").write_bytes(
        (TEXTS / "jiujiang-2024.txt").read_bytes())
    broken = pack.replace("citation: 九江 第三十九条", "citation: 九江 第九十九条", 1) \
                 .replace("citation: 九江 第二十五条(四)\n", "citation: 九江 第二十五条(六)\n", 1)
    assert broken.count("第九十九条") == 1 and broken.count("第二十五条(六)") == 1
    (tmp_path / "jiujiang-2024.yaml").write_text(broken, encoding="utf-8")
    assert pack_ids(tmp_path) == ["jiujiang-2024"]
    problems = check_citations("jiujiang-2024", tmp_path)
    assert len(problems) == 2, problems
    assert any("obligations[self_evaluation]: 九江 第九十九条: jiujiang-2024.txt has no 第九十九条"
               in p for p in problems), problems
    assert any("has no item (六)" in p for p in problems), problems


def test_a_prefix_names_one_jurisdiction() -> None:
    from policies.fidelity import pack_for_prefix, short_name

    assert [short_name(j) for j in ("九江市", "苏州市相城区", "玉山县", "江西省上饶市")] == \
        ["九江", "相城", "玉山", "上饶"]
    known = {"九江市": "jiujiang-2024", "上饶市": "shangrao-2020", "上饶市玉山县": "yushan-draft"}
    assert pack_for_prefix("上饶", known) == "shangrao-2020"
    assert pack_for_prefix("玉山", known) == "yushan-draft"
    assert pack_for_prefix("九江", known) == "jiujiang-2024"
    assert pack_for_prefix("成都", known) is None
