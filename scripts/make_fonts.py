"""Make the web fonts: WOFF2 subsets of the vendored Noto Sans Arabic TTFs.

    .venv/bin/python scripts/make_fonts.py

Pages only need the font for Arabic text (Latin text uses the phone's own font), so each
weight is cut to the Arabic block, Arabic punctuation and the digits and marks Arabic text
mixes in, and saved as WOFF2: about 17 KB a weight instead of 194 KB of TTF. The TTFs stay
for the PDFs. The CSS's unicode-range names the same characters, so a browser fetches the
font only for a page holding Arabic. Run again after updating the TTFs; commit the output.
"""

from pathlib import Path

from fontTools import subset

FONTS = Path(__file__).resolve().parent.parent / "static" / "vendor" / "fonts"
# Arabic letters and marks, Arabic-Indic digits and punctuation, the letters Moroccan names
# add (ڤ ڭ, and ک گ ی of loanwords), the joiners that shape them, and what Arabic text mixes
# in. Other characters of the Arabic block (Urdu, Persian extensions) fall back to the phone's
# own Arabic font. static/css/app.css names the same range.
UNICODES = (
    "U+0600-0670, U+06A4, U+06A9, U+06AD, U+06AF, U+06CC, U+06D4, U+200C-200F, U+0020-0040,"
    " U+00A0, U+00AB, U+00BB, U+2013-2014, U+2026"
)


def main() -> None:
    for weight in ("400Regular", "700Bold"):
        source = FONTS / f"NotoSansArabic_{weight}.ttf"
        target = FONTS / f"NotoSansArabic_{weight}.subset.woff2"
        options = subset.Options()
        options.flavor = "woff2"
        options.layout_features = ["*"]  # every shaping feature: joining forms, ligatures
        options.hinting = False
        options.desubroutinize = True
        font = subset.load_font(str(source), options)
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=subset.parse_unicodes(UNICODES))
        subsetter.subset(font)
        subset.save_font(font, str(target), options)
        print(f"{target.name}: {target.stat().st_size:,} bytes (from {source.stat().st_size:,})")


if __name__ == "__main__":
    main()
