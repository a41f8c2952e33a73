"""Reading a posted form: its text fields and its uploaded files, each in one place."""

from __future__ import annotations

from starlette.datastructures import FormData, UploadFile


def text_fields(form: FormData) -> dict[str, str]:
    """The form's text fields (files left out); a repeated name keeps its last value."""
    return {k: v for k, v in form.multi_items() if isinstance(v, str)}


def form_text(form: FormData, name: str) -> str:
    """One text field, or "" when it is missing or a file."""
    value = form.get(name)
    return value if isinstance(value, str) else ""


def uploaded_files(form: FormData, name: str) -> list[UploadFile]:
    """The files chosen in one file field (an empty file input sends a nameless part)."""
    return [f for f in form.getlist(name) if isinstance(f, UploadFile) and f.filename]
