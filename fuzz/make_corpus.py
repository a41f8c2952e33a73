"""Write the seed corpus for fuzz/email_parser.py: messages built here, as mail clients write
them (GBK/GB18030/UTF-8, encoded words, multipart/alternative, attachments, replies, bounces).

    python fuzz/make_corpus.py fuzz/corpus/email
"""

from __future__ import annotations

import hashlib
import sys
from email.header import Header
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.mail.compose import build_message


def seeds() -> list[bytes]:
    out = [
        build_message(from_addr="parent@example.test", to_addrs=["inbox@school.test"],
                      subject="食堂建议", text="希望食堂多做些蔬菜。",
                      message_id_domain="client.example").as_bytes(),
        build_message(from_addr="a@example.test", to_addrs=["inbox@school.test"],
                      subject="【匿名】操场", text="操场的灯坏了。",
                      html_body="<p>操场的<b>灯</b>坏了</p>",
                      attachments=[("照片.jpg", "image/jpeg", b"\xff\xd8\xff\xe0" + b"0" * 64)],
                      from_name="张三", message_id_domain="client.example").as_bytes(),
        build_message(from_addr="b@example.test", to_addrs=["inbox@school.test"],
                      subject="Re: 回执 1234 5678 9012 3456", text="补充一点：\n> 原来的意见",
                      headers={"In-Reply-To": "<ack.1@school.test>"},
                      message_id_domain="client.example").as_bytes(),
        build_message(from_addr="MAILER-DAEMON@example.test", to_addrs=["inbox@school.test"],
                      subject="Undelivered Mail Returned to Sender", text="bounce",
                      headers={"Auto-Submitted": "auto-replied"},
                      message_id_domain="mx.example").as_bytes(),
    ]
    alt = MIMEMultipart("alternative", _subparts=[
        MIMEText("你好，意见\n> quoted", "plain", "gb18030"),
        MIMEText("<p>你好</p>", "html", "gbk"),
    ])
    alt["From"] = formataddr((str(Header("李四", "gbk").encode()), "c@example.test"))
    alt["Subject"] = str(Header("关于作业太多的建议", "gb2312").encode())
    out.append(alt.as_bytes())
    mixed = MIMEMultipart("mixed")
    mixed["From"] = "d@example.test"
    mixed["Subject"] = "=?utf-8?B?5paH5Lu2?="
    mixed.attach(MIMEText("见附件", "plain", "utf-8"))
    mixed.attach(MIMEApplication(b"%PDF-1.4\n%%EOF\n", "pdf", Name="意见.pdf"))
    nested = MIMEMultipart("mixed")
    nested.attach(mixed)
    out += [mixed.as_bytes(), nested.as_bytes(), b"From: x@y\r\n\r\nbody only\r\n"]
    return out


def main() -> None:
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "fuzz/corpus/email")
    folder.mkdir(parents=True, exist_ok=True)
    for raw in seeds():
        (folder / hashlib.sha1(raw, usedforsecurity=False).hexdigest()).write_bytes(raw)
    print(f"{len(seeds())} seeds in {folder}")


if __name__ == "__main__":
    main()
