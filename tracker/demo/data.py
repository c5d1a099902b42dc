"""Fixed facts for the demonstration data set: Morocco's 12 regions and school names."""

# (region in French, region in Arabic, [(province, latitude, longitude), ...])
REGIONS = [
    (
        "Tanger-Tétouan-Al Hoceïma",
        "طنجة تطوان الحسيمة",
        [("Tanger-Assilah", 35.76, -5.83), ("Tétouan", 35.57, -5.37), ("Al Hoceïma", 35.25, -3.93)],
    ),
    (
        "L'Oriental",
        "الشرق",
        [("Oujda-Angad", 34.68, -1.91), ("Nador", 35.17, -2.93), ("Berkane", 34.92, -2.32)],
    ),
    (
        "Fès-Meknès",
        "فاس مكناس",
        [("Fès", 34.03, -5.00), ("Meknès", 33.89, -5.55), ("Ifrane", 33.53, -5.11)],
    ),
    (
        "Rabat-Salé-Kénitra",
        "الرباط سلا القنيطرة",
        [("Rabat", 34.02, -6.84), ("Salé", 34.05, -6.80), ("Kénitra", 34.26, -6.58)],
    ),
    (
        "Béni Mellal-Khénifra",
        "بني ملال خنيفرة",
        [("Béni Mellal", 32.34, -6.35), ("Khénifra", 32.94, -5.67), ("Azilal", 31.96, -6.57)],
    ),
    (
        "Casablanca-Settat",
        "الدار البيضاء سطات",
        [("Casablanca", 33.57, -7.59), ("Settat", 33.00, -7.62), ("El Jadida", 33.25, -8.50)],
    ),
    (
        "Marrakech-Safi",
        "مراكش آسفي",
        [("Marrakech", 31.63, -8.00), ("Safi", 32.30, -9.24), ("Essaouira", 31.51, -9.77)],
    ),
    (
        "Drâa-Tafilalet",
        "درعة تافيلالت",
        [("Errachidia", 31.93, -4.42), ("Ouarzazate", 30.92, -6.89), ("Zagora", 30.33, -5.84)],
    ),
    (
        "Souss-Massa",
        "سوس ماسة",
        [
            ("Agadir-Ida-Ou-Tanane", 30.43, -9.60),
            ("Taroudant", 30.47, -8.88),
            ("Tiznit", 29.70, -9.73),
        ],
    ),
    (
        "Guelmim-Oued Noun",
        "كلميم واد نون",
        [("Guelmim", 28.99, -10.06), ("Tan-Tan", 28.44, -11.10), ("Sidi Ifni", 29.38, -10.17)],
    ),
    (
        "Laâyoune-Sakia El Hamra",
        "العيون الساقية الحمراء",
        [("Laâyoune", 27.15, -13.20), ("Boujdour", 26.13, -14.48), ("Es-Semara", 26.74, -11.67)],
    ),
    (
        "Dakhla-Oued Ed-Dahab",
        "الداخلة وادي الذهب",
        [("Oued Ed-Dahab", 23.68, -15.96), ("Aousserd", 22.55, -14.33)],
    ),
]

# (French name, Arabic name, kind) — kind sets typical enrolment.
SCHOOL_NAMES = [
    # The longest name a school list holds, so every page and paper shows it can wrap.
    (
        "Groupe scolaire communautaire Sidi Mohammed Ben Abdellah Al Khattabi "
        "(annexe Ait Ouarzazate)",
        "المجموعة المدرسية الجماعاتية سيدي محمد بن عبد الله الخطابي (فرعية آيت ورزازات)",
        "primary",
    ),
    ("École primaire Ibn Khaldoun", "مدرسة ابن خلدون الابتدائية", "primary"),
    ("Collège Al Farabi", "إعدادية الفارابي", "middle"),
    ("Lycée Ibn Rochd", "ثانوية ابن رشد", "high"),
    ("École primaire Al Amal", "مدرسة الأمل الابتدائية", "primary"),
    ("École communautaire Tamazirt", "المدرسة الجماعاتية تمازيرت", "primary"),
    ("Collège Ibn Battouta", "إعدادية ابن بطوطة", "middle"),
    ("Lycée Moulay Ismail", "ثانوية مولاي إسماعيل", "high"),
    ("École primaire Al Massira", "مدرسة المسيرة الابتدائية", "primary"),
    ("Collège Al Khawarizmi", "إعدادية الخوارزمي", "middle"),
    ("École primaire Oqba Ibn Nafii", "مدرسة عقبة بن نافع الابتدائية", "primary"),
    ("Lycée Al Idrissi", "ثانوية الإدريسي", "high"),
    ("École primaire Annahda", "مدرسة النهضة الابتدائية", "primary"),
    ("Collège Al Qods", "إعدادية القدس", "middle"),
    ("École primaire Al Andalous", "مدرسة الأندلس الابتدائية", "primary"),
]

ENROLMENT = {"primary": (180, 900), "middle": (400, 1200), "high": (600, 1600)}

CONTACTS = [
    "Ahmed Benali",
    "Fatima Zahra El Idrissi",
    "Youssef Amrani",
    "Khadija Ouazzani",
    "Mohamed Tazi",
    "Naima Berrada",
    "Hassan Alaoui",
    "Samira Bennani",
    "Rachid Chraibi",
    "Latifa Fassi",
]
