"""Identifiers: GS1 keys, Digital Link, scanner input, USCC and drug trace codes.

Oracles independent of the code under test: published example keys, the GB 32100 weight table written out,
and the EPCIS reference implementation's URN-to-Digital-Link normaliser (epcis-event-hash-generator).
"""

from __future__ import annotations

from collections import Counter
from urllib.parse import quote

import pytest
from epcis_event_hash_generator.dl_normaliser import normaliser as reference_normaliser
from hypothesis import given
from hypothesis import strategies as st

from ledger.errors import (
    InvalidDigitalLink,
    InvalidDrugTraceCode,
    InvalidGLN,
    InvalidGTIN,
    InvalidIdentifier,
    InvalidLot,
    InvalidSerial,
    InvalidSSCC,
    InvalidUSCC,
)
from ledger.identifiers import (
    CSET_82,
    SERIAL_ALPHABET,
    DigitalLink,
    gs1_check_digit,
    make_gtin,
    make_sscc,
    make_uscc,
    new_serial,
    new_serials,
    normalize_gln,
    normalize_gtin,
    normalize_sscc,
    parse_code,
    parse_digital_link,
    validate_drug_trace_code,
    validate_lot,
    validate_serial,
    validate_uscc,
)
from ledger.identifiers.china import USCC_ALPHABET, USCC_CATEGORIES

GTIN = "09506000134352"  # GS1's own example GTIN
SSCC = "106141412345678908"  # GS1 General Specifications example SSCC

cset82_text = st.text(alphabet=sorted(CSET_82), min_size=1, max_size=20)
company_prefixes = st.integers(min_value=6, max_value=11).flatmap(
    lambda n: st.text(alphabet="0123456789", min_size=n, max_size=n).filter(lambda p: p[0] != "0")
)


@st.composite
def gtins(draw: st.DrawFn) -> str:
    prefix = draw(company_prefixes)
    item = draw(st.integers(min_value=0, max_value=10 ** (12 - len(prefix)) - 1))
    return make_gtin(prefix, item, draw(st.sampled_from("012345678")))


def change_one_character(value: str, position: int, alphabet: str, shift: int) -> str:
    current = alphabet.index(value[position])
    replacement = alphabet[(current + shift) % len(alphabet)]
    return value[:position] + replacement + value[position + 1 :]


# --- GS1 keys -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "check"), [("950110153100", "0"), ("9501234", "6"), ("0950600013435", "2"), (SSCC[:-1], "8")]
)
def test_check_digit_matches_published_examples(body: str, check: str) -> None:
    assert gs1_check_digit(body) == check


@pytest.mark.parametrize("body", ["", "12a4", "٣٣٣", "12 34"])
def test_check_digit_of_non_digits_is_refused(body: str) -> None:
    with pytest.raises(InvalidIdentifier):
        gs1_check_digit(body)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("96385074", "00000096385074"),  # GTIN-8
        ("614141123452", "00614141123452"),  # GTIN-12 (UPC-A)
        ("9501101531000", "09501101531000"),  # GTIN-13
        ("10614141123459", "10614141123459"),  # GTIN-14
        (" 09506000134352\n", GTIN),
    ],
)
def test_gtins_of_every_length_normalise_to_14_digits(value: str, expected: str) -> None:
    assert normalize_gtin(value) == expected


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("09506000134353", "check digit 3 but its digits give 2"),
        ("0950600013", "has 10 digits, expected 8 or 12 or 13 or 14"),
        ("095060001343521", "has 15 digits"),
        ("0950600O134352", "'O' is not a digit"),
        ("", "it is empty"),
        ("00000000000000", "all zeros"),
    ],
)
def test_bad_gtins_are_refused_with_the_reason(value: str, reason: str) -> None:
    with pytest.raises(InvalidGTIN, match=reason):
        normalize_gtin(value)


def test_wrong_gtin_check_digit_reports_the_expected_digit() -> None:
    with pytest.raises(InvalidGTIN) as refused:
        normalize_gtin("09506000134359")
    assert refused.value.context["expected_check_digit"] == "2"


@given(gtins(), st.integers(min_value=0, max_value=13), st.integers(min_value=1, max_value=9))
def test_generated_gtins_validate_and_any_single_digit_change_is_refused(gtin: str, position: int, shift: int) -> None:
    assert normalize_gtin(gtin) == gtin
    with pytest.raises(InvalidGTIN):
        normalize_gtin(change_one_character(gtin, position, "0123456789", shift))


def test_make_gtin_places_indicator_prefix_and_item_reference() -> None:
    assert make_gtin("0614141", 12345, indicator="1") == "10614141123459"
    assert make_gtin("950600013", "435") == GTIN


@pytest.mark.parametrize(
    ("prefix", "item", "indicator"),
    [("0614141", 123456, "0"), ("0614141", "1234", "0"), ("0614141", -1, "0"), ("123", 1, "0"), ("0614141", 1, "10")],
)
def test_make_gtin_refuses_parts_whose_lengths_do_not_add_up(prefix: str, item: int | str, indicator: str) -> None:
    with pytest.raises(InvalidGTIN):
        make_gtin(prefix, item, indicator)


def test_make_sscc_builds_the_published_example() -> None:
    assert make_sscc("0614141", 234567890, extension="1") == SSCC


@given(company_prefixes, st.integers(min_value=0, max_value=99_999), st.integers(0, 17), st.integers(1, 9))
def test_generated_ssccs_validate_and_any_single_digit_change_is_refused(
    prefix: str, serial: int, position: int, shift: int
) -> None:
    sscc = make_sscc(prefix, serial, extension="3")
    assert normalize_sscc(sscc) == sscc
    with pytest.raises(InvalidSSCC):
        normalize_sscc(change_one_character(sscc, position, "0123456789", shift))


def test_bad_ssccs_are_refused() -> None:
    with pytest.raises(InvalidSSCC, match="give 8"):
        normalize_sscc("106141412345678909")
    with pytest.raises(InvalidSSCC, match="17 digits"):
        normalize_sscc(SSCC[:-1])
    with pytest.raises(InvalidSSCC, match="does not fit"):
        make_sscc("0614141", 10**9)


def test_glns_are_checked() -> None:
    assert normalize_gln("4226350800008") == "4226350800008"
    with pytest.raises(InvalidGLN, match="give 8"):
        normalize_gln("4226350800009")
    with pytest.raises(InvalidGLN, match="14 digits"):
        normalize_gln("04226350800008")


# --- lot, serial and serial issuance -------------------------------------------------------------------


def test_character_set_82_has_82_characters_and_all_pass_as_lot_and_serial() -> None:
    assert len(CSET_82) == 82
    every = "".join(sorted(CSET_82))
    for start in range(0, 82, 20):
        assert validate_lot(every[start : start + 20]) == every[start : start + 20]
        assert validate_serial(every[start : start + 20]) == every[start : start + 20]


@given(cset82_text)
def test_any_cset82_text_up_to_20_characters_is_a_valid_lot(lot: str) -> None:
    assert validate_lot(lot) == lot


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("", "empty"),
        ("A" * 21, "21 characters"),
        ("AB C", "' ' at position 3"),
        ("LOT#1", "'#' at position 4"),
        ("é", "'é' at position 1"),
        ("A~", "'~' at position 2"),
        ("A\x1dB", "position 2"),
    ],
)
def test_bad_lots_and_serials_are_refused_naming_the_fault(value: str, reason: str) -> None:
    with pytest.raises(InvalidLot, match=reason):
        validate_lot(value)
    with pytest.raises(InvalidSerial, match=reason):
        validate_serial(value)


def test_serial_alphabet_has_no_look_alikes_and_needs_no_escaping() -> None:
    assert not set("0O1IL") & set(SERIAL_ALPHABET)
    assert set(SERIAL_ALPHABET) <= CSET_82
    assert quote(SERIAL_ALPHABET, safe="") == SERIAL_ALPHABET


@pytest.mark.parametrize("length", [8, 12, 20])
def test_new_serial_has_the_asked_length_from_the_alphabet(length: int) -> None:
    serial = new_serial(length)
    assert len(serial) == length
    assert set(serial) <= set(SERIAL_ALPHABET)
    assert validate_serial(serial) == serial


@pytest.mark.parametrize("length", [7, 21])
def test_serial_lengths_too_short_to_be_safe_or_too_long_for_ai_21_are_refused(length: int) -> None:
    with pytest.raises(InvalidSerial, match=r"outside 8\.\.20"):
        new_serials(1, length)


def test_new_serials_are_unique_and_in_the_alphabet() -> None:
    serials = new_serials(100_000, length=8)
    assert len(serials) == len(set(serials)) == 100_000
    assert set("".join(serials)) == set(SERIAL_ALPHABET)
    assert new_serials(0) == []
    with pytest.raises(InvalidSerial):
        new_serials(-1)


def test_serial_symbols_are_equally_likely() -> None:
    # Folding random bytes modulo 31 would make 8 symbols 12.5% likelier; 5% is 7 standard deviations here.
    counts = Counter("".join(new_serials(50_000)))
    expected = 50_000 * 12 / len(SERIAL_ALPHABET)
    assert all(abs(count - expected) < 0.05 * expected for count in counts.values())


# --- Digital Link ---------------------------------------------------------------------------------------


def test_digital_link_kinds_paths_and_element_strings() -> None:
    item = DigitalLink(gtin="9506000134352", lot="L1", serial="X7")
    assert (item.kind, item.gtin, item.path) == ("item", GTIN, f"/01/{GTIN}/10/L1/21/X7")
    assert item.element_string() == f"(01){GTIN}(10)L1(21)X7"
    assert DigitalLink(gtin=GTIN, lot="L1").kind == "batch"
    assert DigitalLink(gtin=GTIN).path == f"/01/{GTIN}"
    assert DigitalLink(gtin=GTIN).kind == "product"
    pallet = DigitalLink(sscc=SSCC)
    assert (pallet.kind, pallet.path, pallet.element_string()) == ("sscc", f"/00/{SSCC}", f"(00){SSCC}")


def test_path_values_are_percent_encoded_per_the_digital_link_grammar() -> None:
    symbols = "".join(c for c in sorted(CSET_82) if not c.isalnum())
    link = DigitalLink(gtin=GTIN, lot=symbols[:20])
    encoded = link.path.split("/")[-1]
    assert all(c.isalnum() or c in "-._%" for c in encoded)
    assert encoded.startswith("%21%22%25%26%27%28%29%2A%2B%2C-.%2F")
    assert parse_digital_link(link.uri("https://trace.example.cn")) == link


def test_uri_on_a_configured_resolver_keeps_its_path_prefix() -> None:
    link = DigitalLink(gtin=GTIN, lot="L1")
    assert link.uri("https://trace.example.cn") == f"https://trace.example.cn/01/{GTIN}/10/L1"
    assert link.uri("https://example.cn/dl/") == f"https://example.cn/dl/01/{GTIN}/10/L1"
    for bad_base in ("ftp://example.cn", "example.cn", "https://example.cn/?x=1"):
        with pytest.raises(InvalidDigitalLink):
            link.uri(bad_base)


def test_canonical_epc_and_class_follow_epcis_2() -> None:
    item = DigitalLink(gtin=GTIN, lot="L/1", serial="X7")
    assert item.canonical_epc() == f"https://id.gs1.org/01/{GTIN}/21/X7"
    assert item.canonical_class() == f"https://id.gs1.org/01/{GTIN}/10/L%2F1"
    assert DigitalLink(sscc=SSCC).canonical_epc() == f"https://id.gs1.org/00/{SSCC}"
    assert DigitalLink(gtin=GTIN).canonical_class() == f"https://id.gs1.org/01/{GTIN}"
    with pytest.raises(InvalidDigitalLink, match="not one physical object"):
        DigitalLink(gtin=GTIN, lot="L1").canonical_epc()
    with pytest.raises(InvalidDigitalLink, match="has no class"):
        DigitalLink(sscc=SSCC).canonical_class()


@given(company_prefixes, st.text(alphabet=SERIAL_ALPHABET + "abc-._", min_size=1, max_size=20))
def test_canonical_epc_matches_the_epcis_reference_normaliser(prefix: str, serial: str) -> None:
    indicator_and_item = "1" + "2" * (12 - len(prefix))
    urn = f"urn:epc:id:sgtin:{prefix}.{indicator_and_item}.{serial}"
    assert parse_code(urn).canonical_epc() == reference_normaliser(urn)


def test_epc_class_and_sscc_urns_match_the_reference_normaliser() -> None:
    for urn in ("urn:epc:class:lgtin:4012345.012345.998877", "urn:epc:id:sscc:0614141.1234567890"):
        link = parse_code(urn)
        produced = link.canonical_class() if link.kind == "batch" else link.canonical_epc()
        assert produced == reference_normaliser(urn)


def test_a_digital_link_needs_a_valid_key_and_an_sscc_stands_alone() -> None:
    with pytest.raises(InvalidDigitalLink, match="needs a GTIN"):
        DigitalLink(lot="L1")
    with pytest.raises(InvalidDigitalLink, match="on its own"):
        DigitalLink(gtin=GTIN, sscc=SSCC)
    with pytest.raises(InvalidGTIN):
        DigitalLink(gtin="09506000134353")
    with pytest.raises(InvalidSerial):
        DigitalLink(gtin=GTIN, serial="")


@given(
    gtins(),
    st.none() | cset82_text,
    st.none() | cset82_text,
    st.sampled_from(["https://id.gs1.org", "http://trace.example.cn", "https://example.com/some/prefix"]),
    st.sampled_from(["", "?17=261231", "?linkType=gs1:pip&17=xx"]),
)
def test_digital_link_round_trips_through_its_uri(
    gtin: str, lot: str | None, serial: str | None, base: str, query: str
) -> None:
    link = DigitalLink(gtin=gtin, lot=lot, serial=serial)
    assert parse_digital_link(link.uri(base) + query) == link


@pytest.mark.parametrize(
    ("uri", "reason", "cause"),
    [
        ("https://x.cn/01/09506000134353/10/A", "check digit 3 but its digits give 2", "InvalidGTIN"),
        ("https://x.cn/01/09506000134352/10/A%20B", "' ' at position 2", "InvalidLot"),
        (f"https://x.cn/01/{GTIN}/21/{'A' * 21}", "21 characters", "InvalidSerial"),
        ("https://x.cn/00/106141412345678909", "give 8", "InvalidSSCC"),
        ("https://x.cn/ARFKk4XB0CDKWcnpqQ", "compressed Digital Links are not accepted", "InvalidDigitalLink"),
    ],
)
def test_bad_digital_links_are_refused_naming_the_faulty_part(uri: str, reason: str, cause: str) -> None:
    with pytest.raises(InvalidDigitalLink, match=reason) as refused:
        parse_digital_link(uri)
    assert refused.value.context["cause"] == cause


@pytest.mark.parametrize(
    ("uri", "reason"),
    [
        ("https://x.cn/414/4226350800008", r"no GTIN \(01\) or SSCC \(00\)"),
        (f"https://x.cn/01/{GTIN}/22/V1", "consumer product variant"),
        (f"https://x.cn/01/{GTIN}/21/A/10/B", "qualifier"),
        (f"ftp://x.cn/01/{GTIN}", "scheme"),
        (f"https://x.cn/01/{GTIN}/10", "even number of path segments"),
    ],
)
def test_digital_links_lotline_does_not_use_are_refused(uri: str, reason: str) -> None:
    with pytest.raises(InvalidDigitalLink, match=reason):
        parse_digital_link(uri)


# --- scanner input --------------------------------------------------------------------------------------


# HRI cannot carry "(" inside a value: it would read as the start of the next AI.
hri_safe_text = st.text(alphabet=sorted(CSET_82 - {"("}), min_size=1, max_size=20)


@given(gtins(), hri_safe_text, hri_safe_text)
def test_the_same_item_written_five_ways_parses_to_the_same_link(gtin: str, lot: str, serial: str) -> None:
    item = DigitalLink(gtin=gtin, lot=lot, serial=serial)
    written = [
        item.uri("https://trace.example.cn") + "?17=261231",
        f"(01) {gtin} (10){lot}(21){serial}",
        f"01{gtin}10{lot}\x1d21{serial}\r\n",
        f"]d201{gtin}21{serial}\x1d10{lot}",
        f"]Q301{gtin}1726123110{lot}\x1d21{serial}",
    ]
    assert [parse_code(text) for text in written] == [item] * 5
    epc_urn = f"urn:epc:id:sgtin:{gtin[1:8]}.{gtin[0]}{gtin[8:13]}.{quote(serial, safe='')}"
    assert parse_code(epc_urn).canonical_epc() == item.canonical_epc()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("9501101531000", DigitalLink(gtin="09501101531000")),  # an EAN-13 scan
        ("]E09501101531000", DigitalLink(gtin="09501101531000")),
        (SSCC, DigitalLink(sscc=SSCC)),
        (f"]C100{SSCC}02{GTIN}3710\x1d10LOT9", DigitalLink(sscc=SSCC)),  # contents of a pallet label
        ("urn:epc:class:lgtin:4012345.012345.998877", DigitalLink(gtin="04012345123456", lot="998877")),
        ("urn:epc:id:sgtin:0614141.112345.A%2FB.1", DigitalLink(gtin="10614141123459", serial="A/B.1")),
    ],
)
def test_scanner_input_of_other_shapes_is_read(text: str, expected: DigitalLink) -> None:
    assert parse_code(text) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("   ", "holds no data"),
        ("]d2", "holds no data"),
        ("]", "two characters"),  # found by schemathesis as ?code=%5D: biip raised IndexError, a 500
        ("]d", "holds no data"),
        ("hello", "Application Identifier"),
        (f"(01){GTIN}(10)A B", "whitespace inside the value 'A B'"),
        (f"(01){GTIN}(10)A(10)B", r"AI \(10\) appears twice"),
        ("(10)A(21)B", r"AIs found: \(10\), \(21\)"),
        ("(01)09506000134353(21)X", "give 2"),
        ("09506000134353", "give 2"),
        ("urn:epc:id:sgtin:0614141.11234.400", "13 digits"),
        ("urn:epc:id:grai:0614141.12345.400", "sgtin, lgtin"),
        ("urn:epc:id:sgtin:0614141.112345.A%20B", "' ' at position 2"),
        ("88888888888888888888", "Application Identifier"),  # a drug trace code is not a GS1 code
    ],
)
def test_unreadable_scanner_input_is_refused_with_the_reason(text: str, reason: str) -> None:
    with pytest.raises(InvalidDigitalLink, match=reason):
        parse_code(text)


# --- unified social credit code -------------------------------------------------------------------------

# The standard's weights written out (GB 32100-2015 table 2), independent of the module's 3**i mod 31.
GB_32100_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def oracle_check_character(body17: str) -> str:
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(body17, GB_32100_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


@pytest.mark.parametrize(
    "code",
    [
        "91350100M000100Y43",  # the example in GB 32100-2015
        "91330100716105852F",  # 阿里巴巴（中国）网络技术有限公司
        "914403001922038216",  # 华为技术有限公司
        "91440300708461136T",  # 腾讯科技（深圳）有限公司
        "91110108551385082Q",  # 小米科技有限责任公司
        "91310000132260250X",  # 上海汽车集团股份有限公司
        "12100000425006133D",  # 华东师范大学 (机构编制 / 事业单位)
    ],
)
def test_published_unified_social_credit_codes_validate(code: str) -> None:
    assert validate_uscc(code) == code
    assert oracle_check_character(code[:17]) == code[17]


def test_uscc_input_is_upper_cased_and_trimmed() -> None:
    assert validate_uscc(" 91350100m000100y43 ") == "91350100M000100Y43"


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("9144030071526726X7", "give check character 'G'"),  # Tencent's code with the last character mistyped
        ("91350100M000100Y4", "17 characters"),
        ("91350100M00O100Y43", "'O' at position 12"),
        ("91350100M000100S43", "'S' at position 16"),
    ],
)
def test_bad_unified_social_credit_codes_are_refused_naming_the_fault(code: str, reason: str) -> None:
    with pytest.raises(InvalidUSCC, match=reason):
        validate_uscc(code)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("B1350100M000100Y4", "no registration authority code"),
        ("94350100M000100Y4", "no organisation category '4'"),
        ("Y2350100M000100Y4", "no organisation category '2'"),
        ("9135A100M000100Y4", "six digits"),
    ],
)
def test_uscc_structure_is_checked_even_with_a_correct_check_character(body: str, reason: str) -> None:
    with pytest.raises(InvalidUSCC, match=reason):
        validate_uscc(body + oracle_check_character(body))
    with pytest.raises(InvalidUSCC, match=reason):
        make_uscc(body)


@st.composite
def uscc_bodies(draw: st.DrawFn) -> str:
    authority = draw(st.sampled_from(sorted(USCC_CATEGORIES)))
    category = draw(st.sampled_from(USCC_CATEGORIES[authority]))
    division = draw(st.text(alphabet="0123456789", min_size=6, max_size=6))
    subject = draw(st.text(alphabet=USCC_ALPHABET, min_size=9, max_size=9))
    return authority + category + division + subject


@given(uscc_bodies(), st.integers(0, 17), st.integers(1, 30))
def test_generated_usccs_validate_and_any_single_character_change_is_refused(
    body: str, position: int, shift: int
) -> None:
    code = make_uscc(body.lower())
    assert code[17] == oracle_check_character(body)
    assert validate_uscc(code) == code
    with pytest.raises(InvalidUSCC):
        validate_uscc(change_one_character(code, position, USCC_ALPHABET, shift))


# --- drug traceability code -----------------------------------------------------------------------------


def test_a_well_formed_drug_trace_code_is_accepted_and_trimmed() -> None:
    assert validate_drug_trace_code(" 81234560123456789012\n") == "81234560123456789012"


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("8123456012345678901", "19 characters"),
        ("812345601234567890123", "21 characters"),
        ("8123456012345678901A", "'A' is not a digit"),
        ("８1234560123456789012", "is not a digit"),
        ("61234560123456789012", "start with 8"),
    ],
)
def test_malformed_drug_trace_codes_are_refused(code: str, reason: str) -> None:
    with pytest.raises(InvalidDrugTraceCode, match=reason):
        validate_drug_trace_code(code)


@pytest.mark.parametrize("uri", ["https://x.cn/01/123/21/ABC12345", "https://x.cn/01/9506000134352999/10/L1"])
def test_a_digital_link_gtin_that_is_not_8_12_13_or_14_digits_is_refused(uri: str) -> None:
    with pytest.raises(InvalidDigitalLink) as caught:
        parse_digital_link(uri)
    assert caught.value.context["cause"] == "InvalidGTIN"
