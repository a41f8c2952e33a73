"""The audit log of admin actions: who did what, when, to which item."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, col, select

from app.models import AdminUser, AuditLog, Unit


def record_audit(
    session: Session,
    *,
    actor_id: int | None,
    action: str,
    unit_id: int | None = None,
    submission_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append one audit entry; callers never put sender identity in `detail`."""
    session.add(
        AuditLog(
            actor_id=actor_id,
            action=action,
            unit_id=unit_id,
            submission_id=submission_id,
            detail=json.dumps(detail or {}, ensure_ascii=False),
        )
    )


ACTION_LABELS: dict[str, str] = {
    "retag": "重新归类",
    "status": "改变状态",
    "assign": "分配",
    "note": "内部备注",
    "reply": "答复",
    "reply_email": "答复邮件",
    "duplicate": "标记重复",
    "bulk": "批量操作",
    "export": "导出",
    "user_created": "添加用户",
    "login": "登录",
    "login_locked": "账户锁定",
    "logout": "退出",
    # An action label, not a credential (bandit B105 matches the word "password").
    "password_changed": "修改密码",  # nosec B105
    "password_reset": "重设密码",  # nosec B105
    "mailbox_added": "添加邮箱",
    "mailbox_updated": "修改邮箱",
    "digest_settings": "汇总设置",
    "digest_sent_now": "立即发送汇总",
    "calendar_set": "设置工作日",
    "calendar_unset": "删除工作日设置",
    "answer_times": "设置办理时限",
    "bureau_answer_times": "设置教育局办理时限",
    "admin_email": "设置督办邮箱",
    "extend": "延期",
    "extension_decided": "审批延期",
    "urge": "催办",
    "forget_sender": "删除发件人姓名和联系方式",
    "retention_policy": "修改保存期限",
    "retention_purge": "按保存期限清理个人信息",
    "retention_hold": "保留意见（暂不清理）",
    "retention_release": "取消保留",
    "export_sender_data": "导出发件人个人信息",
    "question": "向发件人追问",
    "reply_signoff": "设置答复审核",
    "reply_signoff_default": "设置教育局默认答复审核",
    "reply_draft": "起草答复（待审核）",
    "reply_approved": "审核通过答复",
    "reply_returned": "退回答复草稿",
    "reply_template": "保存答复模板",
    "reply_template_deleted": "删除答复模板",
    "hand_up": "上报教育局",
    "forward_masked": "转办学校（隐去身份）",
    "returned": "退回教育局",
    "assigned": "交办承办人",
    "assignment_returned": "承办人退回",
    "group_join": "并入同类问题",
    "group_split": "移出同类问题",
    "group_reply": "同类问题统一答复",
    "urgent_cleared": "解除紧急标记",
    "alert_contacts": "设置紧急联络邮箱",
    "letter_entered": "录入来信",
    "meeting_entered": "录入座谈会",
    "measure_created": "发布整改措施",
    "measure_updated": "更新整改措施",
    "evaluation_codes_created": "生成评议码",
    "channel_override": "调整评议渠道",
    "roster_imported": "导入中层干部名单",
    "roster_reminded": "提醒提交献良策",
    "report.download": "下载报告",
}


@dataclass(frozen=True)
class AuditFilter:
    actor_id: int | None = None
    action: str | None = None
    unit_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    before_id: int | None = None


def audit_actions(session: Session) -> list[str]:
    """Every action code that appears in the log or has a label, labelled ones first."""
    found = session.exec(select(AuditLog.action).distinct()).all()
    return [*ACTION_LABELS, *sorted(set(found) - set(ACTION_LABELS))]


def audit_page(
    session: Session, *, bureau_id: int, filters: AuditFilter, size: int = 100
) -> tuple[list[AuditLog], int | None]:
    """Newest entries of one bureau (its admins' actions), and the id to continue before."""
    actors = select(AdminUser.id).where(AdminUser.bureau_id == bureau_id)
    units = select(Unit.id).where(Unit.bureau_id == bureau_id)
    query = select(AuditLog).where(
        or_(col(AuditLog.actor_id).in_(actors), col(AuditLog.unit_id).in_(units))
    )
    if filters.actor_id is not None:
        query = query.where(AuditLog.actor_id == filters.actor_id)
    if filters.action is not None:
        query = query.where(AuditLog.action == filters.action)
    if filters.unit_id is not None:
        query = query.where(AuditLog.unit_id == filters.unit_id)
    if filters.since is not None:
        query = query.where(col(AuditLog.at) >= filters.since)
    if filters.until is not None:
        query = query.where(col(AuditLog.at) < filters.until)
    if filters.before_id is not None:
        query = query.where(col(AuditLog.id) < filters.before_id)
    rows = list(session.exec(query.order_by(col(AuditLog.id).desc()).limit(size + 1)).all())
    more = len(rows) > size
    rows = rows[:size]
    return rows, (rows[-1].id if more and rows else None)
