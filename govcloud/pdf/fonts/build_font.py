"""Rebuild the shipped CJK font subset from Debian's ``fonts-noto-cjk`` package.

This is a maintenance script, not runtime code: the subset it writes is committed beside it, so a
fresh machine renders Chinese without any system CJK font. Run it only to change the character set.

    cd /tmp && apt-get download fonts-noto-cjk && dpkg-deb -x fonts-noto-cjk_*.deb noto
    .venv/bin/python govcloud/pdf/fonts/build_font.py \\
        /tmp/noto/usr/share/fonts/opentype/noto [EXTRA_TEXT_FILE ...]

The Simplified Chinese face (collection index 2) of ``NotoSansCJK-{Regular,Bold}.ttc`` is cut down
to GB 2312 (all 6,763 hanzi and its symbol rows), ASCII/Latin-1, CJK and full-width punctuation,
currency and common symbols, plus every character found in the optional extra text files (contract
seeds, templates). The result is renamed ("Noto Sans SC GovCloud") so that the PDF font name proves
the shipped file was used rather than a system font; Noto CJK reserves no font name under the OFL,
so the rename is a courtesy, not a requirement.
"""

from __future__ import annotations

import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection, TTFont

HERE = Path(__file__).resolve().parent
FAMILY = "Noto Sans SC GovCloud"
PS_PREFIX = "NotoSansSCGovCloud"
SC_INDEX = 2  # order inside NotoSansCJK-*.ttc: JP, KR, SC, TC, HK, then the Mono faces

EXTRA_RANGES: tuple[tuple[int, int], ...] = (
    (0x0020, 0x007E),  # ASCII
    (0x00A0, 0x00FF),  # Latin-1 (¥ U+00A5, ©, ×, ÷, °)
    (0x2000, 0x206F),  # general punctuation (—, …, ‰, ※)
    (0x2100, 0x214F),  # letterlike (℃, №, ™)
    (0x2150, 0x218F),  # number forms (Ⅰ–Ⅻ)
    (0x2190, 0x21FF),  # arrows
    (0x2460, 0x24FF),  # enclosed alphanumerics (①)
    (0x2500, 0x257F),  # box drawing
    (0x25A0, 0x25FF),  # geometric shapes (■ □ ▲ ●)
    (0x2600, 0x26FF),  # misc symbols (★ ☆ ✓ in some fonts)
    (0x3000, 0x303F),  # CJK symbols and punctuation (、。「」【】〔〕)
    (0x3200, 0x32FF),  # enclosed CJK (㈠)
    (0x3300, 0x33FF),  # CJK compatibility (㎡ ㎏)
    (0xFE30, 0xFE4F),  # CJK compatibility forms
    (0xFF00, 0xFFEF),  # half-width and full-width forms (￥ U+FFE5)
)


def gb2312_characters() -> set[int]:
    """Every character GB 2312 encodes: rows 0xA1–0xF7 by columns 0xA1–0xFE."""
    found: set[int] = set()
    for row in range(0xA1, 0xF8):
        for col in range(0xA1, 0xFF):
            try:
                found.add(ord(bytes((row, col)).decode("gb2312")))
            except UnicodeDecodeError:
                continue
    return found


def wanted_codepoints(extra_files: list[Path]) -> set[int]:
    codepoints = gb2312_characters()
    for start, end in EXTRA_RANGES:
        codepoints.update(range(start, end + 1))
    for path in extra_files:
        codepoints.update(ord(ch) for ch in path.read_text(encoding="utf-8") if ord(ch) > 0x7F)
    return codepoints


def rename(font: TTFont, style: str) -> None:
    names = {
        1: FAMILY,
        2: style,
        3: f"{PS_PREFIX}-{style};subset",
        4: f"{FAMILY} {style}",
        6: f"{PS_PREFIX}-{style}",
        16: FAMILY,
        17: style,
    }
    name_table = font["name"]
    for record in list(name_table.names):
        if record.nameID in names or record.nameID == 18:
            name_table.removeNames(nameID=record.nameID)
    for name_id, value in names.items():
        name_table.setName(value, name_id, 3, 1, 0x409)
        name_table.setName(value, name_id, 1, 0, 0)
    # CFF keeps its own copy of the PostScript name; PDF viewers show this one.
    cff = font["CFF "].cff
    cff.fontNames = [f"{PS_PREFIX}-{style}"]
    top = cff.topDictIndex[0]
    top.FullName = f"{FAMILY} {style}"
    top.FamilyName = FAMILY


def build(source_dir: Path, extra_files: list[Path]) -> None:
    codepoints = wanted_codepoints(extra_files)
    options = subset.Options()
    # Only features a report uses: the full set drags in the JP/KR/TC "locl" glyph variants,
    # doubling the glyph count for nothing.
    options.layout_features = ["kern", "palt", "halt", "ccmp", "liga", "fwid", "hwid", "pwid"]
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True
    options.drop_tables += ["VORG", "vhea", "vmtx", "BASE"]  # no vertical writing in reports
    options.hinting = False  # CFF hints don't matter in PDF at print resolution
    for style in ("Regular", "Bold"):
        collection = TTCollection(str(source_dir / f"NotoSansCJK-{style}.ttc"))
        font = collection.fonts[SC_INDEX]
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=codepoints)
        subsetter.subset(font)
        rename(font, style)
        target = HERE / f"{PS_PREFIX}-{style}.otf"
        font.flavor = None
        font.save(str(target))
        print(f"{target.name}: {len(font.getGlyphOrder())} glyphs, {target.stat().st_size:,} bytes")  # noqa: T201


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    build(Path(sys.argv[1]), [Path(p) for p in sys.argv[2:]])
