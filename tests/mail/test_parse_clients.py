"""Messages built the way real clients write them (Foxmail, QQ Mail, Outlook, iPhone, ...)."""

from __future__ import annotations

import base64
from email.charset import QP, Charset
from email.header import Header
from email.message import Message
from email.mime.image import MIMEImage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr

from app.mail.compose import build_message
from app.mail.parse import parse_message
from tests.factories import ack_mail

# A GBK-only character (镕, not in GB2312) proves "gb2312" labels are decoded as GB18030.
FOXMAIL_BODY = """老师您好：

食堂的饭菜太咸了，希望能改进。朱镕同学也这么觉得。

------------------ 原始邮件 ------------------
发件人: "第一中学意见箱"<yijian@school.test>
发送时间: 2024年5月1日(星期三) 上午10:00
收件人: "学生"<student@qq.com>
主题: Re: 食堂

上次的回复内容
"""


def _headers(msg: Message, subject: str, charset: str = "utf-8") -> Message:
    msg["From"] = formataddr((Header("张三", "utf-8").encode(), "ZhangSan@QQ.com"))
    msg["To"] = "yijian+grade7@school.test"
    msg["Cc"] = "Teacher <teacher@school.test>"
    msg["Subject"] = Header(subject, charset).encode()
    msg["Date"] = "Wed, 1 May 2024 10:00:00 +0800"
    msg["Message-ID"] = "<20240501100000.1@qq.com>"
    return msg


def test_foxmail_gbk_plain_with_history() -> None:
    # Foxmail labels GBK text "gb2312" and sends it base64-encoded.
    part = Message()
    part["MIME-Version"] = "1.0"
    part["Content-Type"] = 'text/plain; charset="gb2312"'
    part["Content-Transfer-Encoding"] = "base64"
    part.set_payload(base64.encodebytes(FOXMAIL_BODY.encode("gbk")).decode())
    msg = _headers(part, "食堂意见", "gb18030")
    msg["X-Mailer"] = "Foxmail 7.2.25.228[cn]"
    mail = parse_message(msg.as_bytes())
    assert mail.text == "老师您好：\n\n食堂的饭菜太咸了，希望能改进。朱镕同学也这么觉得。"
    assert mail.subject == "食堂意见"
    assert mail.from_name == "张三" and mail.from_addr == "zhangsan@qq.com"
    assert mail.recipients == ["yijian+grade7@school.test", "teacher@school.test"]
    assert mail.automated is None and not mail.anonymous


def test_qq_mail_html_only_gb18030_base64() -> None:
    html = (
        "<html><head><style>p{color:red}</style></head><body>"
        "<div>宿舍热水<b>经常</b>没有，</div><div>希望学校处理。</div>"
        "<div><br></div><div>&nbsp;</div>"
        '<div style="font-size:12px">------------------&nbsp;原始邮件&nbsp;------------------</div>'
        '<div><b>发件人:</b>&nbsp;"意见箱"&lt;yijian@school.test&gt;;</div>'
        "<div><b>发送时间:</b>&nbsp;2024年5月1日(星期三) 上午10:00</div>"
        "<div>以前的内容</div><script>alert(1)</script></body></html>"
    )
    part = MIMEText(html, "html", "gb18030")
    msg = _headers(part, "热水问题", "gb18030")
    assert part["Content-Transfer-Encoding"] == "base64"
    mail = parse_message(msg.as_bytes())
    assert mail.text == "宿舍热水经常没有，\n希望学校处理。"


def test_outlook_alternative_qp_with_chinese_header_block() -> None:
    text = (
        "您好，\n\n关于校车时间的建议：早上7点太早了，能否推迟到7点半？这是一个很长的句子，"
        "会被 quoted-printable 折行。\n\n"
        "________________________________\n"
        "发件人: 第一中学意见箱 <yijian@school.test>\n"
        "发送时间: 2024年5月1日 10:00\n"
        "收件人: 李四 <lisi@outlook.com>\n"
        "主题: 已收到\n\n旧内容\n"
    )
    qp = Charset("utf-8")
    qp.body_encoding = QP
    plain = MIMEText("", "plain")
    plain.set_payload(text, qp)
    html = MIMEText(f"<p>{text}</p>", "html", "utf-8")
    alt = MIMEMultipart("alternative", _subparts=[plain, html])
    msg = _headers(alt, "校车时间")
    msg["X-Auto-Response-Suppress"] = "All"  # Outlook sets it on ordinary mail too
    msg["Thread-Topic"] = "校车时间"
    raw = msg.as_bytes()
    assert b"quoted-printable" in raw
    mail = parse_message(raw)
    assert mail.automated is None
    assert mail.text.startswith("您好，\n\n关于校车时间的建议")
    assert "旧内容" not in mail.text and "发件人" not in mail.text
    assert mail.text.endswith("会被 quoted-printable 折行。")


def test_iphone_with_jpeg_attachment() -> None:
    jpeg = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) + b"\xff\xd9"
    text = (
        "教室的灯坏了，见照片。\n\n发自我的iPhone\n\n"
        "> 在 2024年5月1日，10:00，意见箱 <yijian@school.test> 写道：\n> 旧\n"
    )
    body = MIMEText(text, "plain", "utf-8")
    image = MIMEImage(jpeg, "jpeg")
    image.add_header("Content-Disposition", "attachment", filename="IMG_0001.JPG")
    tail = MIMEText("", "plain", "utf-8")
    mixed = MIMEMultipart("mixed", _subparts=[body, image, tail])
    msg = _headers(mixed, "灯坏了")
    mail = parse_message(msg.as_bytes())
    assert mail.text == "教室的灯坏了，见照片。"
    [att] = mail.attachments
    assert att == ("IMG_0001.JPG", "image/jpeg", jpeg)


def test_chinese_attachment_filename_rfc2047() -> None:
    msg = build_message(
        from_addr="a@example.test",
        to_addrs=["yijian@school.test"],
        subject="附件",
        text="见附件",
        message_id_domain="example.test",
        attachments=[("照片.png", "image/png", b"\x89PNG\r\n")],
    )
    mail = parse_message(msg.as_bytes())
    assert mail.attachments[0].filename == "照片.png"


def test_big5() -> None:
    part = MIMEText("學校圖書館開放時間太短。", "plain", "big5")
    msg = _headers(part, "圖書館", "big5")
    mail = parse_message(msg.as_bytes())
    assert mail.text == "學校圖書館開放時間太短。"
    assert mail.subject == "圖書館"


def test_anonymous_subject_marker() -> None:
    for marker in ("【匿名】", "[匿名]", " 【匿名】 "):
        msg = _headers(MIMEText("内容", "plain", "utf-8"), f"{marker}霸凌问题")
        mail = parse_message(msg.as_bytes())
        assert mail.anonymous and mail.subject == "霸凌问题"
    mail = parse_message(_headers(MIMEText("x", "plain", "utf-8"), "关于匿名的问题").as_bytes())
    assert not mail.anonymous


def test_receipt_code_in_subject() -> None:
    for subject in (
        "Re: 补充 1234 5678 9012 3456",
        "回复：回执1234-5678-9012-3456",
        "1234567890123456",
        "回执 １２３４５６７８９０１２３４５６",  # full-width digits from a Chinese IME
    ):
        mail = parse_message(_headers(MIMEText("x", "plain", "utf-8"), subject).as_bytes())
        assert mail.receipt_code == "1234567890123456", subject
    too_long = _headers(MIMEText("x", "plain", "utf-8"), "电话 12345678901234567")
    mail = parse_message(too_long.as_bytes())
    assert mail.receipt_code is None


def test_reply_to_our_ack_keeps_thread_and_receipt() -> None:
    ack = ack_mail(in_reply_to="<a@x>", references=["<r@x>"], status_url="https://y.example/s/1")
    parsed_ack = parse_message(ack.as_bytes())
    assert parsed_ack.automated == "auto-reply"  # our own ack must never be ingested
    assert parsed_ack.in_reply_to == "<a@x>" and parsed_ack.references == ["<r@x>", "<a@x>"]
    assert parsed_ack.receipt_code == "1234567890123456"
    assert "1234-5678-9012-3456" in parsed_ack.text and "https://y.example/s/1" in parsed_ack.text
    reply = _headers(MIMEText("补充一点", "plain", "utf-8"), f"Re: {parsed_ack.subject}")
    reply["In-Reply-To"] = str(parsed_ack.message_id)
    mail = parse_message(reply.as_bytes())
    assert mail.automated is None
    assert mail.receipt_code == "1234567890123456"
    assert mail.in_reply_to == parsed_ack.message_id


def test_auto_reply_detection() -> None:
    cases = [
        ({"Auto-Submitted": "auto-replied"}, "请假", "auto-reply"),
        ({"Auto-Submitted": "auto-generated"}, "通知", "auto-submitted"),
        ({"X-Autoreply": "yes"}, "x", "auto-reply"),
        ({"X-Autorespond": "1"}, "x", "auto-reply"),
        ({}, "自动回复：我正在休假", "auto-reply"),
        ({}, "Automatic reply: 食堂", "auto-reply"),
        ({}, "Out of Office: x", "auto-reply"),
        ({"Precedence": "auto_reply"}, "x", "auto-reply"),
        ({"Return-Path": "<>"}, "x", "null-sender"),
        ({"X-Failed-Recipients": "a@b"}, "x", "bounce"),
        ({"From": "MAILER-DAEMON@qq.com"}, "系统退信", "bounce"),
        ({"From": "noreply@example.test"}, "x", "no-reply-sender"),
    ]
    for headers, subject, reason in cases:
        msg = _headers(MIMEText("我现在不在，稍后回复。", "plain", "utf-8"), subject)
        for name, value in headers.items():
            del msg[name]
            msg[name] = value
        assert parse_message(msg.as_bytes()).automated == reason, (headers, subject)
    # An ordinary complaint about vacation policy is a person writing.
    msg = _headers(MIMEText("假期太短", "plain", "utf-8"), "关于休假安排的建议")
    assert parse_message(msg.as_bytes()).automated is None
    msg["Auto-Submitted"] = "no"
    assert parse_message(msg.as_bytes()).automated is None


def test_list_mail() -> None:
    for name, value, reason in [
        ("List-Id", "<news.example.test>", "list"),
        ("List-Unsubscribe", "<mailto:unsub@example.test>", "list"),
        ("Precedence", "list", "list"),
        ("Precedence", "bulk", "bulk"),
    ]:
        msg = _headers(MIMEText("本周新闻", "plain", "utf-8"), "周报")
        msg[name] = value
        assert parse_message(msg.as_bytes()).automated == reason


def test_headers_stdlib_chokes_on() -> None:
    raw = (
        b"From: a:b:;;\r\nTo: =?utf-8?B?5byg?= <x@school.test>\r\n"
        b"Subject: =?gb2312?B?yrPM w7K7usM=?= =?gb2312?B?0uK8+w==?=\r\n"
        b"Date: not a date\r\nMessage-ID: \r\n\r\nbody\r\n"
    )
    mail = parse_message(raw)
    assert mail.from_addr is None and mail.date is None
    assert mail.subject == "食堂不好意见"
    assert mail.message_id is None and mail.dedup_key.startswith("sha256:")
    assert mail.text == "body"


def test_split_multibyte_encoded_words_and_unknown_charset() -> None:
    data = "意见箱测试".encode("gbk")
    words = " ".join(
        f"=?x-gbk?B?{base64.b64encode(chunk).decode()}?=" for chunk in (data[:3], data[3:])
    )
    raw = f"From: s@example.test\r\nSubject: {words}\r\n\r\nx".encode()
    assert parse_message(raw).subject == "意见箱测试"
    raw = "From: s@example.test\r\nContent-Type: text/plain; charset=x-bogus\r\n\r\n你好".encode(
        "gb18030"
    )
    assert parse_message(raw).text == "你好"


def test_outlook_english_history_and_signature() -> None:
    text = (
        "The bus is late every day.\n\n-- \nLi Si\nGrade 8\n\n"
        "-----Original Message-----\nFrom: x\nSent: y\n\nold\n"
    )
    mail = parse_message(_headers(MIMEText(text, "plain", "utf-8"), "bus").as_bytes())
    assert mail.text == "The bus is late every day."
    text = "Agreed.\n\nOn Wed, May 1, 2024 at 10:00 AM Yijian <yijian@school.test> wrote:\n> old\n"
    mail = parse_message(_headers(MIMEText(text, "plain", "utf-8"), "x").as_bytes())
    assert mail.text == "Agreed."
    text = "老师在黑板上写道：\n“好好学习”\n这句话很好。"
    mail = parse_message(_headers(MIMEText(text, "plain", "utf-8"), "x").as_bytes())
    assert mail.text == text


def test_only_quoted_content_is_kept_whole() -> None:
    text = "-----原始邮件-----\n发件人: 校长\n转发给意见箱的内容"
    mail = parse_message(_headers(MIMEText(text, "plain", "utf-8"), "转发").as_bytes())
    assert "转发给意见箱的内容" in mail.text
