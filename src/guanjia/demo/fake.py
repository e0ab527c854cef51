"""Well-formed fake Chinese data for the demo world: people's names, phone numbers,
addresses and unified social credit codes. Every function takes the caller's
`random.Random`, so the same seed gives the same data."""

from __future__ import annotations

import random

from guanjia.core.validators import uscc_check_character

# Common surnames, roughly by frequency in Sichuan and Chongqing (repeats weight them).
SURNAMES = (
    "王李张刘陈杨黄赵周吴徐孙朱马胡郭林何高梁郑罗宋谢唐韩曹许邓萧冯曾程蔡彭潘袁于董余苏叶吕"
    "魏蒋田杜丁沈姜范江傅钟卢汪戴崔任陆廖姚方金邱夏谭韦贾邹石熊孟秦阎薛侯雷白龙段郝孔邵史"
    "毛常万顾赖武康贺严尹钱施牛洪龚"
    "陈李张王刘杨黄周罗何"
)
GIVEN_CHARS = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏辉建国文斌宇浩凯晨欣怡"
    "婷雪琳晶志强海波俊峰林云飞丹蓉川渝嘉然子涵思远梓轩雨桐佳琪一鸣若曦宏伟晓东春梅德"
    "华永福光荣家豪立新玲莉倩颖琦鑫宁蕾敬彬梦瑶琼亮成兵松坤昊天翔"
)
MOBILE_PREFIXES = (
    "133 135 136 137 138 139 150 151 152 153 157 158 159 166 173 177 180 181 182 183 "
    "187 188 189 191 199"
).split()
# Telephone area codes of Chongqing and Sichuan's prefecture-level units, by the first four
# digits of the GB/T 2260 code (Meishan and Ziyang dial 028 like Chengdu).
AREA_CODES = {
    "5000": "023", "5001": "023", "5002": "023",
    "5101": "028", "5103": "0813", "5104": "0812", "5105": "0830", "5106": "0838",
    "5107": "0816", "5108": "0839", "5109": "0825", "5110": "0832", "5111": "0833",
    "5113": "0817", "5114": "028", "5115": "0831", "5116": "0826", "5117": "0818",
    "5118": "0835", "5119": "0827", "5120": "028", "5132": "0837", "5133": "0836",
    "5134": "0834",
}  # fmt: skip
STREETS = (
    "人民路 解放路 建设路 中山路 和平路 文化路 新华路 胜利路 团结路 长江路 滨江路 迎宾大道 "
    "府前街 政府路 行政中心路 世纪大道 民生路 北环路 南环路 东升路 西城路 学府路 兴业路"
).split()

# GB 11714 organisation code: weights for the eight body characters, check modulo 11.
ORG_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)

# GB 32100 registration authority + category (first two characters of the credit code).
CATEGORY_ORGAN = "11"  # 机构编制 · 机关
CATEGORY_INSTITUTION = "12"  # 机构编制 · 事业单位
CATEGORY_ENTERPRISE = "91"  # 工商 · 企业


# Two-character names that read as something else first.
AWKWARD = {"韩国", "金鑫", "高明", "江川", "黄金", "白云", "石林", "方明", "程序", "龙飞"}


def person_name(rng: random.Random) -> str:
    while True:
        given = rng.choice(GIVEN_CHARS)
        if rng.random() < 0.75:
            given += rng.choice(GIVEN_CHARS)
        name = rng.choice(SURNAMES) + given
        if name not in AWKWARD:
            return name


def mobile(rng: random.Random) -> str:
    return rng.choice(MOBILE_PREFIXES) + "".join(rng.choice("0123456789") for _ in range(8))


def landline(rng: random.Random, region_code: str) -> str:
    """An office number: area code, then 8 digits (023, 028) or 7 digits elsewhere."""
    area = AREA_CODES.get(region_code[:4], "028" if region_code.startswith("51") else "023")
    length = 8 if len(area) == 3 else 7
    number = rng.choice("5678") + "".join(rng.choice("0123456789") for _ in range(length - 1))
    return f"{area}-{number}"


def street_address(rng: random.Random, place: str) -> str:
    return f"{place}{rng.choice(STREETS)}{rng.randint(1, 399)}号"


def organization_code(rng: random.Random) -> str:
    """A GB 11714 organisation code: eight digits and their check character."""
    body = "".join(rng.choice("0123456789") for _ in range(8))
    total = sum(int(c) * w for c, w in zip(body, ORG_CODE_WEIGHTS, strict=True))
    check = 11 - total % 11
    return body + {10: "X", 11: "0"}.get(check, str(check))


def credit_code(
    rng: random.Random, region_code: str, category: str = CATEGORY_ORGAN, used=None
) -> str:
    """A GB 32100 unified social credit code: category (2), region (6), organisation code
    (9), check character (1). Pass a set as `used` to get a code not in it (it is added)."""
    while True:
        first17 = category + region_code + organization_code(rng)
        code = first17 + uscc_check_character(first17)
        if used is None:
            return code
        if code not in used:
            used.add(code)
            return code
