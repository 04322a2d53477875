"""GB/T 3304 ethnic-group codes as the ID card stores them ("01" → 汉族)."""

from __future__ import annotations

_NAMES = ["汉", "蒙古", "回", "藏", "维吾尔", "苗", "彝", "壮", "布依", "朝鲜", "满", "侗", "瑶", "白", "土家", "哈尼", "哈萨克", "傣", "黎", "傈僳", "佤", "畲", "高山", "拉祜", "水", "东乡", "纳西", "景颇", "柯尔克孜", "土", "达斡尔", "仫佬", "羌", "布朗", "撒拉", "毛南", "仡佬", "锡伯", "阿昌", "普米", "塔吉克", "怒", "乌孜别克", "俄罗斯", "鄂温克", "德昂", "保安", "裕固", "京", "塔塔尔", "独龙", "鄂伦春", "赫哲", "门巴", "珞巴", "基诺"]
NATIONS = {f"{i:02d}": f"{name}族" for i, name in enumerate(_NAMES, start=1)}
NATIONS |= {"97": "其他", "98": "外国血统中国籍人士"}
# GB/T 3304's romanized names, in the forms English uses where it has its own (Tibetan,
# Uyghur, Korean, Manchu, Russian)
_ENGLISH = ["Han", "Mongol", "Hui", "Tibetan", "Uyghur", "Miao", "Yi", "Zhuang", "Bouyei",
            "Korean", "Manchu", "Dong", "Yao", "Bai", "Tujia", "Hani", "Kazak", "Dai", "Li",
            "Lisu", "Va", "She", "Gaoshan", "Lahu", "Sui", "Dongxiang", "Naxi", "Jingpo",
            "Kirgiz", "Tu", "Daur", "Mulao", "Qiang", "Blang", "Salar", "Maonan", "Gelao",
            "Xibe", "Achang", "Pumi", "Tajik", "Nu", "Uzbek", "Russian", "Ewenki", "De'ang",
            "Bonan", "Yugur", "Gin", "Tatar", "Derung", "Oroqen", "Hezhen", "Monba", "Lhoba",
            "Jino"]  # fmt: skip
NATIONS_EN = {f"{i:02d}": name for i, name in enumerate(_ENGLISH, start=1)}
NATIONS_EN |= {"97": "Other", "98": "Chinese citizen of foreign origin"}


def nation_name(code: str) -> str:
    """The name for a GB/T 3304 code; an unknown code or a name is returned as is."""
    return NATIONS.get(code.strip().zfill(2) if code.strip().isdigit() else code, code)


def nation_choices() -> tuple[tuple[str, str, str], ...]:
    """Every group as a form offers it: (value, Chinese, English), the value being the
    Chinese name (as an ID card's code reads, nation_name), in GB/T 3304's order."""
    return tuple((zh, zh, NATIONS_EN[code]) for code, zh in NATIONS.items())
