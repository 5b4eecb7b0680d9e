"""Who is who in the synthetic market: region codes, banks, names, personal identifiers and their id_hash
(the hash itself is the package format's: pipelines.filing_package.identity)."""

from __future__ import annotations

import numpy as np

from pipelines.filing_package import uscc
from pipelines.filing_package.identity import id_hash

# Real GB/T 2260 district codes, with the city they belong to.
REGIONS: tuple[str, ...] = (
    "110101",
    "110102",
    "110105",
    "110106",
    "110108",
    "120101",
    "120103",
    "310101",
    "310104",
    "310105",
    "310106",
    "310112",
    "310115",
    "320102",
    "320104",
    "320505",
    "320506",
    "330102",
    "330106",
    "330108",
    "330203",
    "340104",
    "350102",
    "350203",
    "370102",
    "370202",
    "410105",
    "420102",
    "420106",
    "430104",
    "440103",
    "440104",
    "440106",
    "440303",
    "440304",
    "440305",
    "440306",
    "500103",
    "510104",
    "510105",
    "510107",
    "610113",
)
CITY = {
    "11": "北京",
    "12": "天津",
    "31": "上海",
    "32": "江苏",
    "33": "浙江",
    "34": "安徽",
    "35": "福建",
    "37": "山东",
    "41": "河南",
    "42": "湖北",
    "43": "湖南",
    "44": "广东",
    "50": "重庆",
    "51": "四川",
    "61": "陕西",
}
# The home districts enterprises are registered in (fintech hubs).
HQ_REGIONS: tuple[str, ...] = (
    "310115",
    "310104",
    "110108",
    "110105",
    "440305",
    "440304",
    "330108",
    "320505",
    "510107",
    "420106",
    "350203",
    "370102",
)
BANKS: tuple[str, ...] = (
    "ICBC",
    "CCB",
    "ABC",
    "BOC",
    "BOCOM",
    "CMB",
    "CIB",
    "SPDB",
    "CITIC",
    "CEB",
    "PAB",
    "CMBC",
    "HXB",
)
# Foreign countries of customers (none on a FATF call-for-action list).
FOREIGN: tuple[str, ...] = ("HK", "MO", "SG", "US", "GB", "DE", "JP", "KR", "AU", "CA", "FR")
COUNTRIES: tuple[str, ...] = ("CN",) + FOREIGN
SECTORS: tuple[str, ...] = tuple("ABCDEFGHIJKLMNOPQRST")
# sectors of merchants and companies, with weights
MERCHANT_SECTORS = (
    ("F", 0.34),
    ("H", 0.2),
    ("I", 0.1),
    ("R", 0.08),
    ("G", 0.08),
    ("O", 0.08),
    ("C", 0.06),
    ("L", 0.06),
)

_NAME_A = (
    "蓝海",
    "云汇",
    "嘉禾",
    "瑞信",
    "恒通",
    "金石",
    "星河",
    "安盈",
    "聚财",
    "融汇",
    "易达",
    "通宝",
    "鑫源",
    "华岳",
    "盛世",
    "天元",
    "博达",
    "和众",
    "广利",
    "信和",
    "汇通",
    "银河",
    "泰康",
    "中联",
    "宏图",
)
_NAME_B = ("", "数科", "智汇", "网联", "在线", "普惠")
SUFFIX = {
    "PAY": "支付科技有限公司",
    "P2P": "网络借贷信息中介有限公司",
    "CF": "众筹科技有限公司",
    "WM": "基金销售有限公司",
}


def enterprise_name(ent_type: str, region: str, n: int) -> str:
    a = _NAME_A[n % len(_NAME_A)]
    b = _NAME_B[(n // len(_NAME_A)) % len(_NAME_B)]
    return f"{CITY[region[:2]]}{a}{b}{SUFFIX[ent_type]}"


_CN_ID_W = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CN_ID_C = "10X98765432"


def cn_id(region: str, serial: int) -> str:
    """A resident identity number (ISO 7064 MOD 11-2 check) unique per (region, serial < 20,000,000)."""
    birth = np.datetime64("1955-01-01") + np.timedelta64(int(serial % 18000), "D")
    seq = (serial // 18000) % 1000
    body = f"{region}{str(birth).replace('-', '')}{seq:03d}"
    return body + _CN_ID_C[sum(int(c) * w for c, w in zip(body, _CN_ID_W, strict=True)) % 11]


def identifiers(kind: np.ndarray, country: np.ndarray, region: np.ndarray, serial: np.ndarray) -> list[str]:
    """id_hash of each party. kind 0 natural / 1 legal; country index into COUNTRIES; region a 6-digit int or -1;
    serial a number unique within the market for the party's kind."""
    out = []
    for k, c, r, s in zip(kind.tolist(), country.tolist(), region.tolist(), serial.tolist(), strict=True):
        if k == 1:
            out.append(id_hash("USCC", uscc.make(str(r) if r > 0 else "310115", s + 1_000_000)))
        elif c == 0:
            out.append(id_hash("CN_ID", cn_id(str(r), s)))
        else:
            cc = COUNTRIES[c]
            out.append(id_hash(f"PASSPORT-{cc}", f"E{s:09d}"))
    return out
