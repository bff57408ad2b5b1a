"""A regulation's structure (章, 条, 款, 项) from its text, and the citations that point into it.

Pure: no `shixian` import, no I/O except `load_regulation`. The texts in `policies/regulations/`
are web pages and Word files turned into text, each with its own accidents, and the parser
is written against all five of them:

- chapter headings are `第一章 总 则` or, where a list conversion ate the numeral, `1. 总 则`;
- articles start a line with `第N条` (after a full-width space, two spaces or a Word
  `[bookmark: …]` marker); a line starting with `第N条` is an article only when N is the
  next number, so a sentence that happens to begin with a cross-reference is not one;
- items are `（一）` or `(一)` (full- or half-width, with or without a space, or a Markdown
  `- ` in front), or `1.` where the conversion turned `（一）` into a list number (九江
  第二十五条(一));
- a page break can cut a sentence in two lines, even with a blank line between: a line is a
  new paragraph (款) only when the text before it ended a sentence (`。；：！？`), otherwise it
  continues that text;
- the body ends at `附件…`/`抄送…` or at a short line without punctuation after the last
  article (a signature, a 印发 date), so an annex template's `(一)` is never an item.

Citation grammar (what a pack's `citation:` fields say; `parse_citation`):

    citation  = part { (";" | "；") part }
    part      = "shixian 运营默认" [anything]          an operational default, not an article
              | "《" title "》" [anything]              another law (《民法典》第二百零三条): kept,
                                                        not checked (its text is not shipped)
              | [prefix] ref { ("、" | "," | "，") ref } [note]
    prefix    = the jurisdiction's short name (九江, 上饶, 老河口, 相城, 玉山), a substring of
                a pack's `jurisdiction`; a part without one uses the previous part's prefix,
                and the first part the citing pack's own
    ref       = "第" N "条" [ "第" N "款" | "末段" ] { "(" N ")" | "第" N "项" }
    note      = "(" free text ")"       ignored, as in 九江 第五条 (市数据管理部门 督促检查)

N is a Chinese numeral (一 … 九十九, 一百); parentheses may be full- or half-width. `末段`
is the article's last paragraph and needs an article of two or more paragraphs. Items
without a paragraph are looked up in every paragraph of the article. Examples:
`九江 第二十五条(一)`, `九江 第二十五条(二)(三)`, `九江 第二十五条 末段`,
`九江 第二十五条(二); 第二十六条`, `九江 第三十一条第二款`,
`shixian 运营默认; 九江 第五条 (市数据管理部门 督促检查)`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from policies.errors import PolicyError

_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6,
           "七": 7, "八": 8, "九": 9}
CN = "[零〇一二两三四五六七八九十百]+"


class CitationError(PolicyError):
    """A citation that cannot be read, or that names an article, item or paragraph the
    regulation's text does not have."""


def cn_number(text: str) -> int:
    """`二十五` → 25, `十` → 10, `四十` → 40, `一百零一` → 101 (ValueError otherwise)."""
    if not text or any(c not in _DIGITS and c not in "十百" for c in text):
        raise ValueError(f"not a Chinese numeral: {text!r}")
    total, digit = 0, None
    for char in text:
        if char in "零〇" and total:
            continue  # 一百零一: the zero only marks the empty tens
        if char in _DIGITS:
            if digit is not None:
                raise ValueError(f"not a Chinese numeral: {text!r}")
            digit = _DIGITS[char]
        else:
            unit = 10 if char == "十" else 100
            total += (1 if digit is None else digit) * unit
            digit = None
    return total + (digit or 0)


def cn_numeral(n: int) -> str:
    """25 → `二十五`, 10 → `十`, 40 → `四十`, 110 → `一百一十` (1 ≤ n ≤ 999)."""
    if not 1 <= n <= 999:
        raise ValueError(f"{n} is outside 1–999")
    digits = "零一二三四五六七八九"
    if n < 10:
        return digits[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return ("" if tens == 1 else digits[tens]) + "十" + (digits[ones] if ones else "")
    hundreds, rest = divmod(n, 100)
    out = digits[hundreds] + "百"
    if rest == 0:
        return out
    if rest < 10:
        return out + "零" + digits[rest]
    tens, ones = divmod(rest, 10)
    return out + digits[tens] + "十" + (digits[ones] if ones else "")


def article_label(n: int) -> str:
    return f"第{cn_numeral(n)}条"


def item_label(n: int) -> str:
    return f"({cn_numeral(n)})"


# ---- the text ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Item:
    """项: `（一）…` inside a paragraph."""

    number: int
    text: str


@dataclass(frozen=True)
class Paragraph:
    """款: a paragraph of an article; its items follow the sentence that introduces them."""

    number: int
    text: str
    items: tuple[Item, ...] = ()


@dataclass(frozen=True)
class Article:
    """条."""

    number: int
    chapter: int
    paragraphs: tuple[Paragraph, ...]

    @property
    def label(self) -> str:
        return article_label(self.number)

    @property
    def text(self) -> str:
        parts: list[str] = []
        for p in self.paragraphs:
            parts.append(p.text)
            parts += [f"{item_label(i.number)}{i.text}" for i in p.items]
        return "\n".join(x for x in parts if x)

    def excerpt(self, width: int = 40) -> str:
        first = self.paragraphs[0].text if self.paragraphs else ""
        if not first and self.paragraphs and self.paragraphs[0].items:
            first = self.paragraphs[0].items[0].text
        return first if len(first) <= width else first[: width - 1] + "…"


@dataclass(frozen=True)
class Chapter:
    """章; `number` counts headings in order (the text may have lost the numeral)."""

    number: int
    title: str

    @property
    def label(self) -> str:
        return f"第{cn_numeral(self.number)}章 {self.title}".rstrip()


@dataclass(frozen=True)
class Regulation:
    name: str
    chapters: tuple[Chapter, ...]
    articles: tuple[Article, ...]

    def article(self, number: int) -> Article | None:
        if 1 <= number <= len(self.articles):
            return self.articles[number - 1]
        return None

    def chapter_of(self, article: Article) -> Chapter | None:
        return next((c for c in self.chapters if c.number == article.chapter), None)


_BOOKMARK = re.compile(r"\[bookmark:[^\]]*\]")
_ARTICLE = re.compile(rf"^第({CN})条\s*(.*)$")
_CHAPTER = re.compile(rf"^第({CN})章\s*(.*)$")
_NUMBERED = re.compile(r"^(\d{1,2})[.．、]\s*(.*)$")
_ITEM = re.compile(rf"^[（(]({CN})[）)]\s*(.*)$")
_END = re.compile(r"^(附件|相关附件|抄送|扫一扫)")
_TERMINAL = "。；;：:！？!?"
_PUNCTUATION = set(_TERMINAL + "，,、")


def _clean(line: str) -> str:
    line = _BOOKMARK.sub("", line).replace("\u3000", " ").strip()
    if line.startswith("- "):
        line = line[2:].strip()
    return line


def _bare(line: str) -> bool:
    """A heading, a signature or a date: short and without any punctuation."""
    return len(line) <= 40 and not _PUNCTUATION & set(line)


def _ends_sentence(text: str) -> bool:
    stripped = text.rstrip("”’\"')）】")
    return not stripped or stripped[-1] in _TERMINAL


class _Builder:
    def __init__(self) -> None:
        self.chapters: list[Chapter] = []
        self.articles: list[Article] = []
        self.number = 0  # current article, 0 = none open
        self.paragraphs: list[tuple[str, list[Item]]] = []

    def close(self) -> None:
        if self.number:
            paras = tuple(Paragraph(i, text, tuple(items))
                          for i, (text, items) in enumerate(self.paragraphs, start=1))
            chapter = self.chapters[-1].number if self.chapters else 0
            self.articles.append(Article(self.number, chapter, paras))
        self.number = 0
        self.paragraphs = []

    def heading(self, title: str) -> None:
        self.close()
        self.chapters.append(Chapter(len(self.chapters) + 1, re.sub(r"\s+", "", title)))

    def last_text(self) -> str:
        text, items = self.paragraphs[-1]
        return items[-1].text if items else text

    def extend_last(self, more: str) -> None:
        text, items = self.paragraphs[-1]
        if items:
            items[-1] = Item(items[-1].number, items[-1].text + more)
        else:
            self.paragraphs[-1] = (text + more, items)


def parse_regulation(text: str, name: str = "") -> Regulation:
    """Chapters and articles in order; `name` is used in messages (the file name)."""
    b = _Builder()
    in_trailer = False
    for raw in text.splitlines():
        line = _clean(raw)
        if not line:
            continue
        expected = len(b.articles) + (2 if b.number else 1)
        if m := _CHAPTER.match(line):
            b.heading(m.group(2))
            in_trailer = False
            continue
        if (m := _ARTICLE.match(line)) and cn_number(m.group(1)) == expected:
            b.close()
            b.number, in_trailer = expected, False
            b.paragraphs = [(m.group(2).strip(), [])]
            continue
        if _END.match(line) and (b.number or b.articles):
            b.close()
            break
        numbered = _NUMBERED.match(line)
        if numbered and _bare(numbered.group(2)):
            b.heading(numbered.group(2))  # `1. 总 则`: a chapter whose numeral was lost
            in_trailer = False
            continue
        if not b.number or in_trailer:
            in_trailer = bool(b.articles)
            continue
        item = _ITEM.match(line) or numbered
        if item:
            num = item.group(1)
            number = int(num) if num.isdigit() else cn_number(num)
            b.paragraphs[-1][1].append(Item(number, item.group(2).strip()))
        elif not _ends_sentence(b.last_text()):
            b.extend_last(line)  # a sentence cut by a page break
        elif _bare(line):
            b.close()  # a heading of a chapter we cannot see, or the signature after the body
            in_trailer = True
        else:
            b.paragraphs.append((line, []))
    b.close()
    if not b.articles:
        raise PolicyError(f"{name or 'regulation'}: no article (第一条 …) found in the text")
    return Regulation(name, tuple(b.chapters), tuple(b.articles))


@functools.cache
def load_regulation(path: Path) -> Regulation:
    """A shipped text, parsed once per process."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError(f"{path}: cannot read the regulation text: {exc.strerror}") from None
    return parse_regulation(text, path.name)


# ---- citations --------------------------------------------------------------------------------
@dataclass(frozen=True)
class ArticleRef:
    """One article reference: `第二十五条(二)(三)`, `第三十一条第二款`, `第二十五条 末段`."""

    prefix: str
    article: int
    paragraph: int | None = None  # 第N款; LAST = 末段
    items: tuple[int, ...] = ()

    LAST = -1

    @property
    def label(self) -> str:
        out = article_label(self.article)
        if self.paragraph == self.LAST:
            out += " 末段"
        elif self.paragraph is not None:
            out += f"第{cn_numeral(self.paragraph)}款"
        return out + "".join(item_label(i) for i in self.items)

    def __str__(self) -> str:
        return f"{self.prefix} {self.label}".strip()


@dataclass(frozen=True)
class Citation:
    """A `citation:` string read: its article references and its operational defaults."""

    text: str
    refs: tuple[ArticleRef, ...]
    operational: tuple[str, ...]
    external: tuple[str, ...] = ()


_OPEN, _CLOSE = "(（", ")）"
_REF = re.compile(
    rf"第(?P<art>{CN})条"
    rf"(?:\s*(?P<para>第(?P<pnum>{CN})款|末段))?"
    rf"(?P<items>(?:\s*[{_OPEN}]{CN}[{_CLOSE}]|\s*第{CN}项)*)"
)
_ITEMS = re.compile(rf"[{_OPEN}]({CN})[{_CLOSE}]|第({CN})项")
_PREFIX = re.compile(r"^([^\s第;；(（]+)\s*(?=第)")
_SEP = re.compile(r"\s*[、,，]\s*(?=第)")
_NOTE = re.compile(rf"\s*[{_OPEN}][^{_OPEN}{_CLOSE}]*[{_CLOSE}]")
GRAMMAR = ("expected `[城市] 第N条[第N款|末段][(一)…] [(note)]`, parts separated by `;`, "
           "`shixian 运营默认` for an operational default, or `《法律名》…` for another law")


def parse_citation(text: str, default_prefix: str = "") -> Citation:
    """Read a `citation:` string (grammar in the module docstring); CitationError if unreadable."""
    refs: list[ArticleRef] = []
    operational: list[str] = []
    external: list[str] = []
    prefix = default_prefix
    if not text.strip():
        raise CitationError("an empty citation; cite an article (九江 第二十五条(一)) or say "
                            "`shixian 运营默认`")
    for part in (p.strip() for p in re.split(r"[;；]", text)):
        if not part:
            raise CitationError(f"citation {text!r}: an empty part between `;`")
        if part.startswith("shixian"):
            operational.append(part)
            continue
        if part.startswith("《"):
            external.append(part)
            continue
        if m := _PREFIX.match(part):
            prefix, pos = m.group(1), m.end()
        else:
            pos = 0
        while True:
            m = _REF.match(part, pos)
            if not m:
                rest = part[pos:]
                raise CitationError(f"citation {text!r}: cannot read {rest!r}; {GRAMMAR}")
            refs.append(_ref(prefix, m))
            pos = m.end()
            sep = _SEP.match(part, pos)
            if not sep:
                break
            pos = sep.end()
        while note := _NOTE.match(part, pos):
            pos = note.end()
        if part[pos:].strip():
            raise CitationError(f"citation {text!r}: cannot read {part[pos:].strip()!r} after "
                                f"{part[:pos].strip()!r}; {GRAMMAR}")
    return Citation(text, tuple(refs), tuple(operational), tuple(external))


def _ref(prefix: str, m: re.Match[str]) -> ArticleRef:
    paragraph: int | None = None
    if m.group("para") == "末段":
        paragraph = ArticleRef.LAST
    elif m.group("pnum"):
        paragraph = cn_number(m.group("pnum"))
    items = tuple(cn_number(a or b) for a, b in _ITEMS.findall(m.group("items")))
    return ArticleRef(prefix, cn_number(m.group("art")), paragraph, items)


def _span(numbers: Sequence[int]) -> str:
    labels = [item_label(n) for n in numbers]
    if not labels:
        return "none"
    return labels[0] if len(labels) == 1 else f"{labels[0]}–{labels[-1]}"


def check_reference(ref: ArticleRef, regulation: Regulation) -> str | None:
    """None if the text has what `ref` names; else why not, in one line."""
    article = regulation.article(ref.article)
    where = f"{ref}"
    if article is None:
        last = regulation.articles[-1].label
        return (f"{where}: {regulation.name} has no {article_label(ref.article)} "
                f"(its articles are 第一条–{last})")
    paragraphs: Sequence[Paragraph] = article.paragraphs
    if ref.paragraph == ArticleRef.LAST:
        if len(paragraphs) < 2:
            return (f"{where}: {article.label} has one paragraph, so it has no 末段; "
                    f"cite {article.label}")
        paragraphs = paragraphs[-1:]
    elif ref.paragraph is not None:
        if ref.paragraph > len(paragraphs):
            return (f"{where}: {article.label} has {len(paragraphs)} paragraph(s) (款), "
                    f"not 第{cn_numeral(ref.paragraph)}款")
        paragraphs = paragraphs[ref.paragraph - 1: ref.paragraph]
    have = sorted({i.number for p in paragraphs for i in p.items})
    for number in ref.items:
        if number not in have:
            scope = article.label if ref.paragraph is None else ref.label.split("(")[0]
            return (f"{where}: {scope} has no item {item_label(number)} "
                    f"(its items: {_span(have)})")
    return None


