"""Fixtures and command-line tool wrappers for tests that read PDFs and QR codes."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from app.documents.fonts import CjkFontNotFoundError, CjkFonts, find_cjk_fonts


def require(binary: str, package: str) -> str:
    path = shutil.which(binary)
    if path is None:
        pytest.skip(f"{binary} not found: install the Debian package {package}")
    return path


@pytest.fixture(scope="session")
def fonts() -> CjkFonts:
    try:
        return find_cjk_fonts()
    except CjkFontNotFoundError as error:
        pytest.skip(str(error))


def _write(tmp: Path, pdf: bytes) -> Path:
    path = tmp / "document.pdf"
    path.write_bytes(pdf)
    return path


@pytest.fixture
def pdf_text(tmp_path: Path) -> Callable[[bytes], str]:
    """Text of a PDF as pdftotext extracts it, with all whitespace removed.

    Removing whitespace makes the assertions independent of where lines wrap.
    """
    tool = require("pdftotext", "poppler-utils")

    def extract(pdf: bytes) -> str:
        result = subprocess.run(
            [tool, "-enc", "UTF-8", str(_write(tmp_path, pdf)), "-"],
            check=True,
            capture_output=True,
        )
        return "".join(result.stdout.decode("utf-8").split())

    return extract


@pytest.fixture
def page_count(tmp_path: Path) -> Callable[[bytes], int]:
    tool = require("pdfinfo", "poppler-utils")

    def count(pdf: bytes) -> int:
        result = subprocess.run(
            [tool, str(_write(tmp_path, pdf))], check=True, capture_output=True, text=True
        )
        pages = next(line for line in result.stdout.splitlines() if line.startswith("Pages:"))
        return int(pages.split()[1])

    return count


@pytest.fixture
def decode_png() -> Callable[[Path], list[str]]:
    """Every QR code zbarimg finds in an image file."""
    tool = require("zbarimg", "zbar-tools")

    def decode(image: Path) -> list[str]:
        # Exit status 4 means "no symbol found", which the assertions then report.
        result = subprocess.run(
            [tool, "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", str(image)],
            capture_output=True,
        )
        assert result.returncode in (0, 4), result.stderr
        return result.stdout.decode("utf-8").splitlines()

    return decode


@pytest.fixture
def decode_pdf_page(
    tmp_path: Path, decode_png: Callable[[Path], list[str]]
) -> Callable[[bytes, int], list[str]]:
    """QR codes on one page (1-based) of a PDF, rendered the way a printer would see it."""
    tool = require("pdftoppm", "poppler-utils")

    def decode(pdf: bytes, page: int) -> list[str]:
        prefix = tmp_path / f"page{page}"
        subprocess.run(
            [
                tool,
                "-png",
                "-r",
                "150",
                "-f",
                str(page),
                "-l",
                str(page),
                "-singlefile",
                str(_write(tmp_path, pdf)),
                str(prefix),
            ],
            check=True,
        )
        return decode_png(prefix.with_suffix(".png"))

    return decode
