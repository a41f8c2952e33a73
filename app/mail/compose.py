"""Building outbound messages: the acknowledgement reply and a generic html+text message."""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Iterable, Mapping
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid

_REPLY_PREFIX = re.compile(r"^\s*(re|回复|答复|回覆)\s*[:：]", re.IGNORECASE)


def build_message(
    *,
    from_addr: str,
    to_addrs: Iterable[str],
    subject: str,
    text: str,
    message_id_domain: str,
    html_body: str | None = None,
    attachments: Iterable[tuple[str, str, bytes]] = (),
    from_name: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> EmailMessage:
    """A message with a text part, an optional HTML alternative and optional attachments.

    Attachments are (filename, content_type, data) triples, as `ParsedMail.attachments`.
    """
    msg = EmailMessage()
    msg["From"] = formataddr((from_name, from_addr)) if from_name else from_addr
    msg["To"] = ", ".join(to_addrs)
    msg["Subject"] = subject
    msg["Date"] = format_datetime(dt.datetime.now(dt.UTC))
    msg["Message-ID"] = make_msgid(domain=message_id_domain)
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(text)
    if html_body is not None:
        msg.add_alternative(html_body, subtype="html")
    for filename, content_type, data in attachments:
        maintype, _, subtype = content_type.partition("/")
        msg.add_attachment(
            data,
            maintype=maintype or "application",
            subtype=subtype or "octet-stream",
            filename=filename,
        )
    return msg


def build_ack(
    *,
    to_addr: str,
    in_reply_to: str | None,
    references: list[str],
    subject: str,
    receipt_code: str,
    status_url: str,
    unit_name: str,
    from_addr: str,
    message_id_domain: str,
) -> EmailMessage:
    """The automatic acknowledgement of a received submission.

    Auto-Submitted: auto-replied (RFC 3834) stops well-behaved auto-responders from answering
    it, and X-Auto-Response-Suppress does the same for Exchange/Outlook. `receipt_code` is
    the receipt as the sender should see it (grouped with dashes: header folding may break a
    subject at spaces, and the parser accepts both forms).
    """
    code = receipt_code
    # A header is one line: an encoded newline in the sender's subject would make the header
    # unsendable (and, before, the whole message was quarantined with its From).
    original = " ".join(subject.split())
    if not original:
        reply_subject = f"【已收到】回执 {code}"
    elif _REPLY_PREFIX.match(original):
        reply_subject = f"{original}【已收到】回执 {code}"
    else:
        reply_subject = f"Re: {original}【已收到】回执 {code}"

    text = (
        "您好：\n\n"
        f"{unit_name}已收到您的来信，我们会认真阅读并尽快处理。\n\n"
        f"回执号：{code}\n"
        f"查看处理进度：{status_url}\n\n"
        "请妥善保存回执号，凭它可以查询处理进度。如需补充内容，请直接回复本邮件。\n\n"
        f"{unit_name}\n"
        "（本邮件由系统自动发送）\n"
    )
    e = html.escape
    html_body = (
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"></head><body>'
        "<p>您好：</p>"
        f"<p>{e(unit_name)}已收到您的来信，我们会认真阅读并尽快处理。</p>"
        f"<p>回执号：<strong>{e(code)}</strong></p>"
        f'<p><a href="{e(status_url, quote=True)}">查看处理进度</a></p>'
        "<p>请妥善保存回执号，凭它可以查询处理进度。如需补充内容，请直接回复本邮件。</p>"
        f"<p>{e(unit_name)}<br>（本邮件由系统自动发送）</p>"
        "</body></html>"
    )
    headers = {"Auto-Submitted": "auto-replied", "X-Auto-Response-Suppress": "All"}
    if in_reply_to:
        headers["In-Reply-To"] = in_reply_to
    refs = list(references)
    if in_reply_to and in_reply_to not in refs:
        refs.append(in_reply_to)
    if refs:
        headers["References"] = " ".join(refs)
    return build_message(
        from_addr=from_addr,
        from_name=f"{unit_name}意见箱",
        to_addrs=[to_addr],
        subject=reply_subject,
        text=text,
        html_body=html_body,
        message_id_domain=message_id_domain,
        headers=headers,
    )
