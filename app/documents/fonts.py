"""Locating the CJK fonts that PDFs embed.

Nothing is downloaded at run time: the fonts come from the operating system (Debian package
``fonts-noto-cjk`` by default) or from a path the deployment configures.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEBIAN_PACKAGE = "fonts-noto-cjk"

_NOTO = Path("/usr/share/fonts/opentype/noto")
# Noto CJK collections hold one face per region; index 2 is the Simplified Chinese one (SC),
# whose glyph shapes follow the mainland standard instead of the Japanese default at 0.
_NOTO_SC = 2


class CjkFontNotFoundError(RuntimeError):
    """No usable CJK font: the PDF cannot be rendered without tofu boxes."""


@dataclass(frozen=True)
class FontFace:
    """One face of a TrueType/OpenType file; ``index`` selects it inside a .ttc/.otc."""

    path: Path
    index: int = 0


@dataclass(frozen=True)
class CjkFonts:
    """Body text face (a Song/serif style, as formal Chinese letters use) and heading face."""

    regular: FontFace
    bold: FontFace

    @classmethod
    def single(cls, face: FontFace) -> CjkFonts:
        """Use one face for everything, for fonts that come without a bold weight."""
        return cls(regular=face, bold=face)


# Tried in order; every file of a candidate must exist. Some releases split the serif faces
# into a separate package, hence the sans-only fallback; WenQuanYi and AR PL are older
# alternatives an administrator may already have installed.
DEBIAN_CANDIDATES: tuple[CjkFonts, ...] = (
    CjkFonts(
        regular=FontFace(_NOTO / "NotoSerifCJK-Regular.ttc", _NOTO_SC),
        bold=FontFace(_NOTO / "NotoSansCJK-Bold.ttc", _NOTO_SC),
    ),
    CjkFonts(
        regular=FontFace(_NOTO / "NotoSansCJK-Regular.ttc", _NOTO_SC),
        bold=FontFace(_NOTO / "NotoSansCJK-Bold.ttc", _NOTO_SC),
    ),
    CjkFonts.single(FontFace(Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"))),
    CjkFonts.single(FontFace(Path("/usr/share/fonts/truetype/arphic/uming.ttc"))),
)


def find_cjk_fonts(path: str | os.PathLike[str] | None = None, *, index: int = 0) -> CjkFonts:
    """Return the fonts to embed.

    ``path`` (from the deployment's configuration) names one font file used for all text, with
    ``index`` as its face in a collection (2 for the SC face of a Noto CJK .ttc). Without it
    the Debian locations are tried. Any TrueType or OpenType (CFF) outline font works.
    """
    if path is not None:
        face = FontFace(Path(path), index)
        if not face.path.is_file():
            raise CjkFontNotFoundError(f"configured PDF font {face.path} does not exist")
        return CjkFonts.single(face)
    for candidate in DEBIAN_CANDIDATES:
        if candidate.regular.path.is_file() and candidate.bold.path.is_file():
            return candidate
    raise CjkFontNotFoundError(
        "no CJK font found for PDF output; install the Debian package "
        f"{DEBIAN_PACKAGE} (apt-get install {DEBIAN_PACKAGE}) or configure a font file path"
    )
