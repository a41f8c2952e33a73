"""Two locales: Simplified Chinese first, English second. Keys are the Chinese text."""

from __future__ import annotations

from collections.abc import Callable

LOCALES = ("zh", "en")

ANONYMITY_NOTE = (
    "匿名提交时，我们只保存您写的内容和照片（已去除位置信息），"
    "不保存姓名、电话、IP 地址、设备信息或 Cookie。回执码是查看答复的唯一凭证。"
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
    "请抄下或截图保存回执码。这是查看处理进度和答复的唯一凭证，丢失后无法找回。": (
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
    "暂无答复，请稍后再来查看。": "No reply yet; please check again later.",
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
}


def pick_locale(query_lang: str | None, accept_language: str | None) -> str:
    """Chinese unless English is asked for explicitly or preferred by the browser."""
    if query_lang in LOCALES:
        return query_lang
    if accept_language and accept_language.strip().lower().startswith("en"):
        return "en"
    return "zh"


def translator(locale: str) -> Callable[[str], str]:
    """A gettext-like function for one locale."""
    if locale == "en":
        return lambda text: EN.get(text, text)
    return lambda text: text
