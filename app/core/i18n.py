"""Two locales: Simplified Chinese first, English second. Keys are the Chinese text."""

from __future__ import annotations

import re
from collections.abc import Callable

LOCALES = ("zh", "en")

ANONYMITY_NOTE = (
    "匿名时，我们只保存您写的字和照片。照片里的位置已去掉。"
    "不保存姓名、电话、IP 地址和设备信息，也不用 Cookie。看答复要凭回执码。"
)

EN: dict[str, str] = {
    "意见箱": "Suggestion box",
    "提交意见": "Send a suggestion",
    "查询回执": "Check a receipt",
    "您的身份": "You are",
    "家长": "Parent",
    "离退休干部": "Retired official",
    "上级领导": "Supervisor",
    "教职工": "Staff",
    "群众代表": "Community member",
    "其他": "Other",
    "匿名提交": "Send anonymously",
    "交给谁": "Send to",
    "交给": "Sent to",
    "教体局（学校看不到您的原文）": "The education bureau (the school cannot see your original)",
    "交给学校": "The school",
    "直接交给教体局，学校看不到": "Straight to the education bureau; the school cannot see it",
    ANONYMITY_NOTE: (
        "Anonymous: we keep only your text and photos (with location data removed). "
        "No name, phone, IP address, device or cookie is kept. The receipt code is the "
        "only way to see the reply."
    ),
    "意见或建议": "Your suggestion",
    "请写下您的意见或建议": "Write your suggestion here",
    "姓名": "Name",
    "联系方式（电话或邮箱）": "Contact (phone or email)",
    "实名时填写，用于答复。": "For named suggestions, so we can reply.",
    "照片或 PDF（可选，最多3个，每个不超过10MB）": (
        "Photos or PDF (optional, up to 3, 10 MB each)"
    ),
    "提交": "Send",
    "已收到您的意见": "Your suggestion was received",
    "您的回执码": "Your receipt code",
    "保存回执单（可打印，可存成图片）": "Keep a receipt slip (print it or save it as an image)",
    "离开本页前，请确认已经抄下回执码，或保存了回执单。": (
        "Before you leave this page, make sure you wrote down the code or kept the slip."
    ),
    "意见回执单": "Receipt slip",
    "回执码": "Receipt code",
    "提交日期": "Sent on",
    "怎样查看答复": "How to see the reply",
    "在浏览器中打开：": "Open in a browser:",
    "输入上面的16位回执码。": "Enter the 16-digit code above.",
    "查看办理进度和答复。": "See the progress and the reply.",
    "回执码是查看答复的唯一凭证，丢失后无法找回。回执单上没有您的姓名和联系方式。": (
        "The code is the only way to see the reply and cannot be replaced if lost. "
        "The slip holds no name or contact."
    ),
    "保存回执单": "Keep the slip",
    "打印：用浏览器菜单里的“打印”，只打印上面的回执单。": (
        "To print: use Print in the browser menu; only the slip above is printed."
    ),
    "存到手机：长按下面的图片，选“保存图片”。": (
        "To keep it on your phone: press and hold the image below, then choose Save image."
    ),
    "回执单图片，内容同上": "The receipt slip as an image, the same as above",
    "下载回执单图片": "Download the slip image",
    "请抄下或截图保存回执码。查进度、看答复都要用它。丢了就找不回来。": (
        "Write down or screenshot this receipt code. It is the only way to see progress and "
        "replies; it cannot be recovered if lost."
    ),
    "查询处理进度": "Check progress",
    "匿名提交：没有保存您的姓名、联系方式、IP 地址或设备信息。": (
        "Sent anonymously: no name, contact, IP address or device details were kept."
    ),
    "输入16位回执码": "Enter the 16-digit receipt code",
    "查询": "Check",
    "处理状态": "Status",
    "提交时间": "Sent",
    "答复": "Replies",
    "还没有答复。请过几天再来看。": "No reply yet. Please check again in a few days.",
    "出错了": "Something went wrong",
    "返回": "Back",
    "当前阶段": "Current phase",
    "活动安排": "Schedule",
    "字": "characters",
    "单位": "Unit",
    "选择学校": "Choose a school",
    "征求意见": "Suggestions",
    "本页不使用 Cookie，不记录您的 IP 地址。": "This page sets no cookies and logs no IP address.",
    "新收": "Received",
    "已分类": "Classified",
    "已转办": "Forwarded",
    "已答复": "Answered",
    "已办结": "Closed",
    "无效": "Invalid",
    "重复": "Duplicate",
    "思想解放": "Open thinking",
    "发展思路": "Development",
    "工作作风": "Work style",
    "工作纪律": "Discipline",
    "服务社会": "Service",
    "未归类": "Unclassified",
    "归类": "Check",
    "English": "English",
    "中文": "中文",
    "大字": "Large text",
    "标准字": "Normal text",
    "跳到正文": "Skip to content",
    "网站导航": "Site",
    # Errors public users meet. A key with {} stands for the numbers in the Chinese message,
    # filled in the same order (see translator).
    "请填写意见或建议的内容。": "Please write your suggestion.",
    "内容不能超过 {} 字（现在 {} 字），请精简或分几次提交。": (
        "The text may have at most {} characters (it has {}). "
        "Please shorten it or send it in parts."
    ),
    "请选择您的身份。": "Please choose who you are.",
    "实名提交时请至少留下姓名或联系方式；不想留，请选择匿名。": (
        "To send with your name, give a name or a contact. If you prefer not to, choose anonymous."
    ),
    "姓名不能超过 {} 字。": "The name may have at most {} characters.",
    "联系方式不能超过 {} 字。": "The contact may have at most {} characters.",
    "请求编号格式不正确。": "This form has expired. Please open it again.",
    "没有找到这个回执码对应的意见，请核对后重新输入。": (
        "No suggestion has this receipt code. Please check it and try again."
    ),
    "回执码应为16位数字，请核对后重新输入。": (
        "A receipt code has 16 digits. Please check it and try again."
    ),
    "图片像素过大（最多 {} 万像素），请缩小后再上传。": (
        "The picture has too many pixels (at most 50 million). Please make it smaller."
    ),
    "图片文件已损坏或无法识别，请换一张再试。": (
        "The picture is damaged or cannot be read. Please try another one."
    ),
    "单个文件不能超过 {} MB。": "Each file may be at most {} MB.",
    "只能上传照片（JPG、PNG、WebP、GIF）或 PDF 文件。": (
        "Only photos (JPG, PNG, WebP, GIF) or PDF files can be sent."
    ),
    "PDF 文件不完整，请重新导出后再上传。": "The PDF is incomplete. Please export it again.",
    "PDF 文件已损坏或无法读取，请重新导出后再上传。": (
        "The PDF is damaged or cannot be read. Please export it again."
    ),
    "PDF 文件设置了打开密码，无法检查其内容，请去掉密码后再上传。": (
        "The PDF needs a password to open, so it cannot be checked. Please remove the password."
    ),
    "PDF 中有无法处理的图片格式，请用“打印为 PDF”重新导出后再上传。": (
        "The PDF holds a picture in a format we cannot process. Please use “Print to PDF”."
    ),
    "PDF 最多 {} 页，请只上传相关的页面。": (
        "A PDF may have at most {} pages. Please send only the pages that matter."
    ),
    "最多上传 {} 个文件；表单内容不完整，请返回重试。": (
        "You can send at most {} files, or the form was incomplete. Please go back and try again."
    ),
    "提交的内容过大（文件总大小超出限制），请减少或压缩照片后再试。": (
        "The files are too large in total. Please send fewer or smaller photos."
    ),
    "系统繁忙，您的意见尚未保存，请稍后再提交一次。": (
        "The system is busy and your suggestion was not saved. Please send it again shortly."
    ),
    "系统繁忙，尚未保存，请稍后再提交一次。": (
        "The system is busy and nothing was saved. Please send it again shortly."
    ),
    "提交太频繁了，请稍等几分钟再试。": "Too many submissions. Please wait a few minutes.",
    "查询太频繁了，请稍等几分钟再试。": "Too many look-ups. Please wait a few minutes.",
    "本单位目前没有开放意见征集。": "This unit is not taking suggestions now.",
    "意见征集尚未开始（{}年{}月{}日起）。": "Suggestions open on {}-{}-{}.",
    "本次意见征集已经结束，感谢关注。": "This round of suggestions has ended. Thank you.",
    "当前阶段不接收这一渠道的意见，请查看各阶段时间安排。": (
        "This way of sending is closed in the current phase. Please see the schedule."
    ),
    "没有找到这个单位，请核对链接或二维码。": (
        "No such school or office. Please check the link or QR code."
    ),
    "评议码应为16位字母和数字，请核对评议表上的评议码。": (
        "An evaluation code has 16 letters and digits. Please check the one on your form."
    ),
    "没有这个评议码，请核对评议表上的评议码。": (
        "No such evaluation code. Please check the one on your form."
    ),
    "这个评议码已经使用过，每个评议码只能评议一次。": (
        "This evaluation code was already used. Each code works once."
    ),
    "请对第{}项措施作出评价。": "Please rate measure {}.",
    "第{}项的意见不能超过 {} 字。": "The comment on measure {} may have at most {} characters.",
    "本单位目前不在群众评议阶段。": "This unit is not in its public evaluation phase.",
    "本单位还没有公布整改措施，暂时无需评议。": (
        "This unit has not published its measures yet, so there is nothing to rate."
    ),
    "整改措施已更新，请刷新页面后重新评议。": (
        "The measures have changed. Please reload the page and rate again."
    ),
    "这个献策链接无效，请核对邮件或通知中的链接。": (
        "This link is not valid. Please check the link in your email or notice."
    ),
    "提交的内容不完整或格式不对，请返回检查后再试。": (
        "Something in the form is missing or in the wrong format. Please go back and check."
    ),
    "没有找到这个页面。": "Page not found.",
    "不支持这种请求方式。": "This request method is not supported.",
    "请求无法处理。": "The request could not be handled.",
    "请求太频繁了，请稍等几分钟再试。": "Too many requests. Please wait a few minutes.",
    "这个请求编号已用于另一条内容，请刷新页面后重新提交。": (
        "This form was already used for other text. Please reload the page and send it again."
    ),
    "没有这个网址。请核对纸上印的网址，或直接扫描二维码。": (
        "No such address. Please check the address on the paper, or scan the QR code."
    ),
    "页码不正确，请从第一页浏览。": "No such page number. Please start from the first page.",
    # The privacy notice and a named sender's rights (app/privacy).
    "隐私说明": "Privacy notice",
    "我们保存什么": "What we keep",
    "您写的意见、您选的身份、收到意见的学校或单位，以及提交时间（只到分钟）。": (
        "Your suggestion, the role you chose, the school or office it went to, and when it "
        "was sent (to the minute only)."
    ),
    "实名时，还保存您留下的姓名和联系方式，只用于答复您。": (
        "If you give your name, we also keep it and your contact, only to answer you."
    ),
    "照片或 PDF 附件：最多 {} 个，每个不超过 {} MB；照片里的位置信息在保存前去掉。": (
        "Photos or PDF files: up to {}, {} MB each; location data is removed from photos "
        "before they are kept."
    ),
    "用邮件提意见时：匿名邮件不保存发件地址和原始邮件；署名邮件保存原始邮件，以便核对。": (
        "By email: for anonymous mail neither the sender's address nor the original message "
        "is kept; for signed mail the original message is kept, to check it."
    ),
    "怎样保护": "How it is protected",
    "姓名、联系方式、附件、原始邮件和邮箱授权码都加密保存。": (
        "Names, contacts, attachments, original messages and mailbox passwords are stored "
        "encrypted."
    ),
    "加密密钥与数据库和备份分开保管：只拿到数据库或备份的人读不出这些内容。": (
        "The encryption key is kept apart from the database and its backups: whoever has "
        "only the database or a backup cannot read them."
    ),
    "本服务处于试用状态：加密密钥与数据库放在同一台机器上，请勿填写真实的个人信息。": (
        "This service is on trial: its encryption key sits on the same machine as the "
        "database. Please do not enter real personal details."
    ),
    "回执码只保存它的加密摘要，谁也无法从数据库里还原回执码。": (
        "Only a keyed digest of each receipt code is kept: no one can recover a code from "
        "the database."
    ),
    "保存多久": "How long it is kept",
    "意见办结 {} 天后，删除发件人的姓名、联系方式、原始邮件和附件。": (
        "{} days after a suggestion is closed, the sender's name, contact, original email "
        "and files are deleted."
    ),
    "意见内容、类别、单位、日期和办理记录留作档案，用于统计。": (
        "The text, category, school, dates and handling record are kept as records and for "
        "statistics."
    ),
    "办结 {} 天后回执码停止使用，查询时显示“已归档”。": (
        "{} days after closing, the receipt code stops working and shows \"archived\"."
    ),
    "这条意见已办结归档（已归档），回执码已停用。请向收到意见的学校或教育局了解情况。": (
        "This suggestion was closed and archived; its receipt code no longer works. To ask "
        "about it, please contact the school or the education bureau that received it."
    ),
    "您可以随时删除自己的姓名和联系方式（见下文）。": (
        "You can remove your name and contact at any time (see below)."
    ),
    "谁能看到": "Who can see it",
    "只有收到意见的学校的管理员和教育局的管理员能看到意见的全文；实名信息只用于答复。": (
        "Only the administrators of the school that received it and of the education "
        "bureau see the full text; names and contacts are used only to answer."
    ),
    "公开的答复会去掉姓名和联系方式。公开的统计数字少于5条时不显示具体数。": (
        "Public answers leave out names and contacts. Public figures below 5 are not shown."
    ),
    "管理员的每次查看导出和处理都记录在操作日志里。": (
        "Every export and action by an administrator is recorded in the audit log."
    ),
    "怎样删除您的姓名": "How to remove your name",
    "在“查询回执”页输入回执码，可以下载我们保存的关于这条意见的全部信息。": (
        "Enter your receipt code on the \"Check a receipt\" page to download everything we "
        "keep about your suggestion."
    ),
    "也可以删除您的姓名和联系方式：意见变为匿名，内容和处理记录不变。": (
        "You can also remove your name and contact: the suggestion becomes anonymous, its "
        "text and handling stay."
    ),
    "没有回执码时，可以请学校的管理员代为删除。": (
        "Without the code, ask the school's administrator to remove them for you."
    ),
    "您的个人信息": "Your personal data",
    "下载我们保存的关于这条意见的信息": "Download what we keep about this suggestion",
    "我确认删除我的姓名和联系方式（意见变为匿名，无法恢复）": (
        "I confirm: remove my name and contact (the suggestion becomes anonymous; this "
        "cannot be undone)"
    ),
    "删除我的姓名和联系方式": "Remove my name and contact",
    "这条意见的信息": "About this suggestion",
    "（不满意，重新办理）": " (not satisfied: being handled again)",
    "匿名提交：我们没有保存您的姓名和联系方式。": (
        "Sent anonymously: we keep no name or contact of yours."
    ),
    "请勾选确认后再提交。": "Please tick the confirmation box first.",
    "这条意见已经是匿名的，没有保存姓名和联系方式。": (
        "This suggestion is already anonymous: no name or contact is kept."
    ),
    "已删除姓名和联系方式": "Your name and contact were removed",
    "这条意见现在是匿名的：内容、处理状态和答复都不变，凭回执码仍可查看答复。": (
        "The suggestion is now anonymous: its text, status and answers stay, and the receipt "
        "code still shows the answers."
    ),
    "请求内容不符合要求：": "The request is not valid: ",
    "请求内容无法解析，请发送 UTF-8 编码的 JSON。": (
        "The request body could not be read. Please send UTF-8 JSON."
    ),
    "承诺答复日期": "Promised answer date",
    "{}年{}月{}日": "{}-{}-{}",
    "没有这个接口": "No such endpoint",
    "不支持这种请求方式": "This request method is not supported",
    # The dialogue on the receipt page (app/dialogue).
    "答复与沟通": "Replies and questions",
    "您的评价": "Your rating",
    "您对这条答复满意吗？": "Are you satisfied with this reply?",
    "满意": "Satisfied",
    "基本满意": "Mostly satisfied",
    "不满意": "Not satisfied",
    "意见（可选）": "Comment (optional)",
    "提交评价": "Send rating",
    "评价答复": "Rate the reply",
    "办理人员的问题": "A question from the office",
    "您的补充": "You added",
    "附件": "Files",
    "回答问题或补充情况": "Answer a question or add information",
    "补充内容": "Your answer or addition",
    "发送": "Send",
    "已收到您的补充，办理人员会看到。": "Received. The office will see what you added.",
    "感谢您的评价。": "Thank you for your rating.",
    "请填写要补充的内容，或选择照片、PDF 文件。": (
        "Please write something or choose a photo or PDF."
    ),
    "这条答复已经评价过了。": "This reply has already been rated.",
    "没有找到这条答复。": "No such reply.",
    "请选择满意、基本满意或不满意。": "Please choose satisfied, mostly satisfied or not satisfied.",
    "这个评价链接无效。": "This rating link is not valid.",
    "内容不能超过 {} 字。": "At most {} characters, please.",
    "意见不能超过 {} 字。": "The comment may have at most {} characters.",
}


def pick_locale(query_lang: str | None, accept_language: str | None) -> str:
    """Chinese unless English is asked for explicitly or preferred by the browser."""
    if query_lang in LOCALES:
        return query_lang
    if accept_language and accept_language.strip().lower().startswith("en"):
        return "en"
    return "zh"


_NUMBER = re.compile(r"\d+")


def _english(text: str) -> str:
    found = EN.get(text)
    if found is not None:
        return found
    # Messages with figures in them (limits, counts, dates) are catalogued once, with {}.
    numbers = _NUMBER.findall(text)
    template = EN.get(_NUMBER.sub("{}", text)) if numbers else None
    return template.format(*numbers) if template is not None else text


def translator(locale: str) -> Callable[[str], str]:
    """A gettext-like function for one locale."""
    if locale == "en":
        return _english
    return lambda text: text
