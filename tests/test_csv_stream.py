"""The CSV parser accepts what Graph really sends and refuses what is not a complete report."""

from __future__ import annotations

import pytest

from shared.collect.catalog import EMAIL_ACTIVITY, MAILBOX_USAGE
from shared.collect.csv_stream import ParsedReport, ReportFormatError

BOM = b"\xef\xbb\xbf"
EMAIL_HEADER = (
    "Report Refresh Date,User Principal Name,Display Name,Is Deleted,Deleted Date,Last Activity Date,Send Count,"
    "Receive Count,Read Count,Meeting Created Count,Meeting Interacted Count,Assigned Products,Report Period"
)
ROW_A = "2024-01-15,alice@contoso.com,Alice,False,,2024-01-15,5,10,7,0,0,OFFICE 365 E5+POWER BI (FREE),7"
ROW_B = "2024-01-15,bob@contoso.com,Bob,False,,2024-01-10,,3,,0,,OFFICE 365 E3,7"


def parse(body: bytes, report=EMAIL_ACTIVITY) -> tuple[ParsedReport, list[list]]:
    parsed = ParsedReport(report, body)
    return parsed, list(parsed)


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_bom_and_line_endings(newline: str) -> None:
    body = BOM + newline.join([EMAIL_HEADER, ROW_A, ROW_B, ""]).encode()
    parsed, rows = parse(body)
    assert parsed.refresh_date == "2024-01-15"
    assert rows[0] == ["alice@contoso.com", "2024-01-15", 5, 10, 7, 7]
    assert rows[1] == ["bob@contoso.com", "2024-01-10", None, 3, None, 7]  # blank cells are not zeros
    assert not parsed.concealed


def test_reordered_and_extra_columns_are_read_by_name() -> None:
    header = "Report Period,Read Count,Extra Column,User Principal Name ,Send Count,Receive Count,Last Activity Date"
    body = BOM + f"{header}\n1,4,x,carol@contoso.com,2,3,2024-01-15\n".encode()
    _, rows = parse(body)
    assert rows == [["carol@contoso.com", "2024-01-15", 2, 3, 4, 1]]


def test_header_only_report_is_empty_not_an_error() -> None:
    parsed, rows = parse(BOM + (EMAIL_HEADER + "\r\n").encode())
    assert rows == [] and parsed.refresh_date == ""


def test_concealed_names_are_detected() -> None:
    row = ROW_A.replace("alice@contoso.com", "5535B4D580981B19AD1942C38063507F")
    parsed, _ = parse(BOM + f"{EMAIL_HEADER}\n{row}\n".encode())
    assert parsed.concealed


def test_truncated_download_is_refused() -> None:
    body = BOM + f"{EMAIL_HEADER}\n{ROW_A}\n{ROW_B[:30]}".encode()
    with pytest.raises(ReportFormatError, match="truncated"):
        parse(body)


def test_html_error_page_is_refused_with_its_start() -> None:
    with pytest.raises(ReportFormatError, match="Bad gateway"):
        parse(b"<html>Bad gateway</html>")


def test_non_numeric_count_names_the_column() -> None:
    body = BOM + f"{EMAIL_HEADER}\n{ROW_A.replace(',5,10,', ',five,10,')}\n".encode()
    with pytest.raises(ReportFormatError, match="Send Count"):
        parse(body)


def test_mailbox_byte_counts_above_int32() -> None:
    header = (
        "Report Refresh Date,User Principal Name,Display Name,Is Deleted,Deleted Date,Created Date,Last Activity Date,"
        "Item Count,Storage Used (Byte),Issue Warning Quota (Byte),Prohibit Send Quota (Byte),"
        "Prohibit Send/Receive Quota (Byte),Deleted Item Count,Deleted Item Size (Byte),Deleted Item Quota (Byte),"
        "Has Archive,Report Period"
    )
    row = (
        "2023-01-24,john.doe@contoso.com,John Doe,False,,2023-01-18,2023-01-24,191,5719031,105226698752,"
        "106300440576,107374182400,25,582157,32212254720,False,7"
    )
    _, rows = parse(BOM + f"{header}\n{row}\n".encode(), MAILBOX_USAGE)
    assert rows == [["john.doe@contoso.com", "2023-01-24", 5719031, 105226698752, 106300440576, 107374182400, 191, 7]]


def test_a_count_that_is_not_a_number_is_refused_naming_its_line_column_and_value() -> None:
    bad = ROW_B.replace(",3,", ", 12abc ,")
    body = BOM + "\n".join([EMAIL_HEADER, ROW_A, bad, ""]).encode()
    with pytest.raises(ReportFormatError, match=r"line 3: 'Receive Count' is not a number: '12abc'"):
        parse(body)
    _, rows = parse(BOM + "\n".join([EMAIL_HEADER, ROW_A.replace(",5,", ", 5 ,"), ""]).encode())
    assert rows[0][2] == 5  # padded counts are still counts
