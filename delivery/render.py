"""What a recipient reads: one notice as a subject, plain text, HTML and markdown (中文).

Every message carries what the recipient needs to act: project, duty, who acts, the due day
(Beijing), working days late, the rung, the article, and which document ends the duty.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from workflows.models import NoticeKind, NoticeRecord

RUNG_LABELS = {"warning": "预警", "overdue": "逾期", "escalated": "升级督办",
               "consequence": "处理后果", "violation": "违规", "correction": "更正",
               "reminder": "年度工作提醒", "operator": "运维告警"}
KIND_LABELS = {NoticeKind.RUNG: "", NoticeKind.CONSEQUENCE: "后果",
               NoticeKind.VIOLATION: "违规", NoticeKind.CORRECTION: "更正",
               NoticeKind.CYCLE: "年度工作", NoticeKind.OPERATOR: "运维"}


def rung_label(notice: NoticeRecord) -> str:
    if notice.kind == NoticeKind.CORRECTION:
        return "更正"
    label = RUNG_LABELS.get(notice.rung, notice.rung)
    return f"{label} (第{notice.level}级)" if notice.kind == NoticeKind.RUNG else label


@dataclass(frozen=True)
class Message:
    subject: str
    title: str
    lines: list[tuple[str, str]]
    summary: str

    @property
    def text(self) -> str:
        body = "\n".join(f"{k}：{v}" for k, v in self.lines)
        return (f"{self.title}\n\n{self.summary}\n\n{body}\n\n"
                "—— 时限 (shixian) 自动发送，请勿直接回复。\n")

    @property
    def html(self) -> str:
        rows = "".join(f"<tr><th align=\"left\">{html.escape(k)}</th>"
                       f"<td>{html.escape(v)}</td></tr>" for k, v in self.lines)
        return (f"<html><body><h3>{html.escape(self.title)}</h3>"
                f"<p>{html.escape(self.summary)}</p><table>{rows}</table>"
                "<p style=\"color:#888\">—— 时限 (shixian) 自动发送，请勿直接回复。</p>"
                "</body></html>")

    @property
    def markdown(self) -> str:
        body = "\n".join(f"- **{k}**：{v}" for k, v in self.lines)
        return f"### {self.title}\n\n{self.summary}\n\n{body}\n"


def render(project_id: str, notice: NoticeRecord, recipient: str) -> Message:
    rung = rung_label(notice)
    project = f"{project_id} {notice.project_name}".strip()
    lines: list[tuple[str, str]] = [
        ("年度工作" if notice.kind == NoticeKind.CYCLE else "项目", project)]
    if notice.owner:
        lines.append(("业主单位", notice.owner))
    if notice.duty_title:
        lines.append(("事项", notice.duty_title))
    if notice.actor_name or notice.actor:
        lines.append(("责任单位", notice.actor_name or notice.actor))
    lines.append(("到期日 (北京时间)", notice.due_on.isoformat() if notice.due_on else "—"))
    if notice.kind != NoticeKind.CYCLE:
        lines.append(("逾期工作日", str(notice.overdue_working_days)))
    lines.append(("级别", rung))
    lines.append(("依据", notice.citation))
    if notice.ends_with:
        lines.append(("办结方式", f"登记文件「{notice.ends_with}」即可办结"))
    if notice.withdraws:
        lines.append(("撤回的通知", notice.withdraws))
    lines.append(("收件人", recipient))
    lines.append(("通知编号", notice.key))
    duty = notice.duty_title or notice.obligation
    if notice.kind == NoticeKind.CORRECTION:
        title = f"【更正】{project_id} {duty}：此前的通知有误，予以撤回"
    else:
        title = f"【{rung}】{project_id} {duty}"
    return Message(subject=f"[时限][{project_id}] {rung}：{duty}", title=title,
                   lines=lines, summary=notice.message)
