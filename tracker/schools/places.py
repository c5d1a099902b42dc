"""Morocco's places in Arabic: the 12 regions (2015) and their provinces and prefectures,
shipped as reference data. School lists carry these names in French (as the ministry's
files do); Arabic readers see them in Arabic, and an Arabic search finds them."""

from flask_babel import get_locale

REGIONS_AR = {
    "Tanger-Tétouan-Al Hoceïma": "طنجة تطوان الحسيمة",
    "L'Oriental": "الشرق",
    "Fès-Meknès": "فاس مكناس",
    "Rabat-Salé-Kénitra": "الرباط سلا القنيطرة",
    "Béni Mellal-Khénifra": "بني ملال خنيفرة",
    "Casablanca-Settat": "الدار البيضاء سطات",
    "Marrakech-Safi": "مراكش آسفي",
    "Drâa-Tafilalet": "درعة تافيلالت",
    "Souss-Massa": "سوس ماسة",
    "Guelmim-Oued Noun": "كلميم واد نون",
    "Laâyoune-Sakia El Hamra": "العيون الساقية الحمراء",
    "Dakhla-Oued Ed-Dahab": "الداخلة وادي الذهب",
}
PROVINCES_AR = {
    # Tanger-Tétouan-Al Hoceïma
    "Tanger-Assilah": "طنجة أصيلة",
    "M'diq-Fnideq": "المضيق الفنيدق",
    "Tétouan": "تطوان",
    "Fahs-Anjra": "الفحص أنجرة",
    "Larache": "العرائش",
    "Al Hoceïma": "الحسيمة",
    "Chefchaouen": "شفشاون",
    "Ouezzane": "وزان",
    # L'Oriental
    "Oujda-Angad": "وجدة أنكاد",
    "Nador": "الناظور",
    "Driouch": "الدريوش",
    "Jerada": "جرادة",
    "Berkane": "بركان",
    "Taourirt": "تاوريرت",
    "Guercif": "جرسيف",
    "Figuig": "فكيك",
    # Fès-Meknès
    "Fès": "فاس",
    "Meknès": "مكناس",
    "El Hajeb": "الحاجب",
    "Ifrane": "إفران",
    "Moulay Yacoub": "مولاي يعقوب",
    "Sefrou": "صفرو",
    "Boulemane": "بولمان",
    "Taounate": "تاونات",
    "Taza": "تازة",
    # Rabat-Salé-Kénitra
    "Rabat": "الرباط",
    "Salé": "سلا",
    "Skhirate-Témara": "الصخيرات تمارة",
    "Kénitra": "القنيطرة",
    "Khémisset": "الخميسات",
    "Sidi Kacem": "سيدي قاسم",
    "Sidi Slimane": "سيدي سليمان",
    # Béni Mellal-Khénifra
    "Béni Mellal": "بني ملال",
    "Azilal": "أزيلال",
    "Fquih Ben Salah": "الفقيه بن صالح",
    "Khénifra": "خنيفرة",
    "Khouribga": "خريبكة",
    # Casablanca-Settat
    "Casablanca": "الدار البيضاء",
    "Mohammédia": "المحمدية",
    "El Jadida": "الجديدة",
    "Nouaceur": "النواصر",
    "Médiouna": "مديونة",
    "Benslimane": "بنسليمان",
    "Berrechid": "برشيد",
    "Settat": "سطات",
    "Sidi Bennour": "سيدي بنور",
    # Marrakech-Safi
    "Marrakech": "مراكش",
    "Chichaoua": "شيشاوة",
    "Al Haouz": "الحوز",
    "El Kelâa des Sraghna": "قلعة السراغنة",
    "Essaouira": "الصويرة",
    "Rehamna": "الرحامنة",
    "Safi": "آسفي",
    "Youssoufia": "اليوسفية",
    # Drâa-Tafilalet
    "Errachidia": "الرشيدية",
    "Ouarzazate": "ورزازات",
    "Midelt": "ميدلت",
    "Tinghir": "تنغير",
    "Zagora": "زاكورة",
    # Souss-Massa
    "Agadir-Ida-Ou-Tanane": "أكادير إداوتنان",
    "Inezgane-Aït Melloul": "إنزكان آيت ملول",
    "Chtouka-Aït Baha": "اشتوكة آيت باها",
    "Taroudant": "تارودانت",
    "Tiznit": "تيزنيت",
    "Tata": "طاطا",
    # Guelmim-Oued Noun
    "Guelmim": "كلميم",
    "Assa-Zag": "آسا الزاك",
    "Tan-Tan": "طانطان",
    "Sidi Ifni": "سيدي إفني",
    # Laâyoune-Sakia El Hamra
    "Laâyoune": "العيون",
    "Boujdour": "بوجدور",
    "Tarfaya": "طرفاية",
    "Es-Semara": "السمارة",
    # Dakhla-Oued Ed-Dahab
    "Oued Ed-Dahab": "وادي الذهب",
    "Aousserd": "أوسرد",
}
PLACES_AR = {**REGIONS_AR, **PROVINCES_AR}
_BY_KEY = {name.casefold(): arabic for name, arabic in PLACES_AR.items()}


def arabic_name(name: str | None) -> str:
    """The Arabic name of a region or province, or "" when the reference data lacks it."""
    return _BY_KEY.get((name or "").casefold(), "")


def place_name(name: str | None) -> str:
    """A region or province as the reader reads it: in Arabic for Arabic readers."""
    if str(get_locale()) == "ar":
        return arabic_name(name) or (name or "")
    return name or ""


def places_named(text: str) -> list[str]:
    """The French names of the places whose Arabic name holds `text` (تارودانت: Taroudant)."""
    text = " ".join((text or "").split())
    if not text:
        return []
    return [name for name, arabic in PLACES_AR.items() if text in arabic]


def _folded(text: str) -> str:
    text = " ".join((text or "").split())
    return text.replace("أ", "ا").replace("إ", "ا").replace("آ", "ا").replace("ة", "ه")


_BY_ARABIC = {_folded(arabic): name for name, arabic in PLACES_AR.items()}


def french_place(text: str) -> str | None:
    """The French name of a region or province written in Arabic (سوس ماسة: Souss-Massa),
    as school lists store them; None when the reference data does not know it."""
    return _BY_ARABIC.get(_folded(text))
