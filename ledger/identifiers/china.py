"""Chinese identifiers: the unified social credit code of organisations and the 20-digit drug traceability code."""

from __future__ import annotations

from typing import Final

from ledger.errors import InvalidDrugTraceCode, InvalidUSCC

# GB 32100-2015 §4.1: 0-9 and A-Z without I, O, Z, S, V (31 characters; a character's value is its index).
USCC_ALPHABET: Final = "0123456789ABCDEFGHJKLMNPQRTUWXY"
# GB 32100-2015 §4.2 / GB/T 17710 (ISO 7064 MOD 31-3): the weight of position i (from 0) is 3**i mod 31.
_USCC_WEIGHTS: Final = tuple(pow(3, i, 31) for i in range(17))

# Position 1 (registration authority) and the position-2 category codes each authority assigns, as published
# with GB 32100-2015 and its later additions (外交, 司法行政, 文化, 旅游, 宗教, 工会, 军队, 农业).
USCC_CATEGORIES: Final[dict[str, str]] = {
    "1": "1239",  # 机构编制: 机关, 事业单位, 编办直接管理机构编制的群众团体, 其他
    "2": "19",  # 外交: 外国常驻新闻机构, 其他
    "3": "123459",  # 司法行政: 律师执业机构, 公证处, 基层法律服务所, 司法鉴定机构, 仲裁委员会, 其他
    "4": "19",  # 文化: 外国在华文化中心, 其他
    "5": "1239",  # 民政: 社会团体, 民办非企业单位, 基金会, 其他
    "6": "129",  # 旅游: 外国旅游部门常驻代表机构, 港澳台地区旅游部门常驻内地代表机构, 其他
    "7": "129",  # 宗教: 宗教活动场所, 宗教院校, 其他
    "8": "19",  # 工会: 基层工会, 其他
    "9": "123",  # 工商 (市场监管): 企业, 个体工商户, 农民专业合作社
    "A": "19",  # 中央军委改革和编制办公室: 军队事业单位, 其他
    "N": "1239",  # 农业: 组级, 村级, 乡镇级集体经济组织, 其他
    "Y": "1",  # 其他
}


def _uscc_check_character(body17: str) -> str:
    total = sum(USCC_ALPHABET.index(char) * weight for char, weight in zip(body17, _USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[-total % 31]


def _validate_uscc_characters(code: str, original: str) -> None:
    for position, char in enumerate(code, start=1):
        if char not in USCC_ALPHABET:
            raise InvalidUSCC(
                f"unified social credit code {original!r} has {char!r} at position {position}; only 0-9 and "
                "A-Z without I, O, Z, S, V are used",
                value=original,
                character=char,
                position=position,
            )


def _validate_uscc_structure(code: str, original: str) -> None:
    """Positions 1-8 per GB 32100-2015 §3.

    Positions 3-8 are the registering office's GB/T 2260 division code: only their being digits is checked,
    because GB/T 2260 is revised every year and a code keeps the division it was issued under, so a division
    table would go stale and refuse genuine codes. Positions 9-17 (the GB 11714 organisation code) are not held
    to GB 11714's own check digit: the position-18 check character already covers them, and it is not
    established here that every issued code (individual businesses' subject codes were assigned in bulk)
    satisfies it, while a false refusal would lock a real organisation out.
    """
    authority, category, division = code[0], code[1], code[2:8]
    categories = USCC_CATEGORIES.get(authority)
    if categories is None:
        raise InvalidUSCC(
            f"unified social credit code {original!r} starts with {authority!r}, which is no registration "
            f"authority code (known: {', '.join(USCC_CATEGORIES)})",
            value=original,
        )
    if category not in categories:
        raise InvalidUSCC(
            f"unified social credit code {original!r}: authority {authority!r} has no organisation category "
            f"{category!r} (it uses {', '.join(categories)})",
            value=original,
        )
    if not division.isdigit():
        raise InvalidUSCC(
            f"unified social credit code {original!r}: positions 3-8 must be an administrative division code of "
            f"six digits, got {division!r}",
            value=original,
        )


def validate_uscc(value: str) -> str:
    """Validate a 统一社会信用代码 (GB 32100-2015) and return it upper-cased.

    Checked in this order, so the most likely typing error is the one reported: length, alphabet, the
    position-18 check character, then the authority / category / division structure of positions 1-8.
    """
    code = value.strip().upper()
    if len(code) != 18:
        raise InvalidUSCC(f"unified social credit code {value!r} has {len(code)} characters, expected 18", value=value)
    _validate_uscc_characters(code, value)
    expected = _uscc_check_character(code[:17])
    if code[17] != expected:
        raise InvalidUSCC(
            f"unified social credit code {value!r} ends in {code[17]!r} but its first 17 characters give check "
            f"character {expected!r}",
            value=value,
            expected_check_character=expected,
        )
    _validate_uscc_structure(code, value)
    return code


def make_uscc(body17: str) -> str:
    """Append the check character to 17 structurally valid characters (for test and demo organisations)."""
    body = body17.strip().upper()
    if len(body) != 17:
        raise InvalidUSCC(
            f"a unified social credit code body needs 17 characters, {body17!r} has {len(body)}", value=body17
        )
    _validate_uscc_characters(body, body17)
    _validate_uscc_structure(body, body17)
    return body + _uscc_check_character(body)


def validate_drug_trace_code(value: str) -> str:
    """Validate the shape of a Chinese 20-digit drug traceability code (药品追溯码, also on vaccines).

    What the convention is: NMPA/T 1002-2019 (药品追溯码编码要求) lets a code either follow an ISO standard (GS1
    codes go through :func:`ledger.identifiers.parse_code`) or be 20 characters whose first 7 are the 药品标识码
    (drug/package identifier), followed by a production identifier holding at least the package serial, and a
    check part. The 20-digit codes in circulation continue the former 中国药品电子监管码 layout on the 码上放心
    platform (commonly described as a 7-digit identifier, a 9-digit serial and 4 check digits) and start with
    8: the platform's verification API drops "codes not 20 digits starting with 8" before looking them up.

    What is checked: exactly 20 ASCII digits (surrounding spaces removed) and the leading 8.

    What is not, and why: the check digits are computed by the issuing platform with an unpublished algorithm,
    so they cannot be verified offline; whether a 药品标识码 was ever assigned, and whether the serial was
    issued, is known only to the platform (and, for codes lotline has imported, to the ledger's own mapping).
    A code passing this function is well-formed, not proven genuine.
    """
    code = value.strip()
    if len(code) != 20:
        raise InvalidDrugTraceCode(
            f"drug traceability code {value!r} has {len(code)} characters, expected 20 digits", value=value
        )
    bad = next((c for c in code if not ("0" <= c <= "9")), None)
    if bad is not None:
        raise InvalidDrugTraceCode(
            f"drug traceability code {value!r} must be digits only; {bad!r} is not a digit", value=value
        )
    if not code.startswith("8"):
        raise InvalidDrugTraceCode(
            f"drug traceability code {value!r} starts with {code[0]!r}; 20-digit codes start with 8",
            value=value,
        )
    return code
