"""What was set aside and why, in words a founder reads (무엇이 따로 보관되었나요): the one wording of the wizard's
check page and of the command line's export summary, Korean or English.

One line per reason: the records kept separately for it (quarantined rows: not made into the patient's records,
kept exactly as they were inside the sealed file), or the values kept as they were (field defects: the record
went into the patient's records, the one broken value kept beside it), with the sections they came from, how many,
what that means and whether the founder has anything to do. Counts and section names only: never a patient value,
never a reason code or an engineering word. The counts are the reconciliation's (``data/report/reconciliation.json``
in the bag): nothing is computed here that the reconciliation does not hold.
"""

from __future__ import annotations

import locale
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from emr_exporter.reports.transfer import section_name

#: A reason in the founder's words, as the record or value it describes ("날짜를 읽을 수 없는" 기록 / 값):
#: (Korean, English). English reads "{n} records {what}" / "1 value {what}": one phrase for one and for more.
WHAT: dict[str, tuple[str, str]] = {
    "invalid-date": ("날짜를 읽을 수 없는", "with a date that cannot be read"),
    "sentinel-date": ("'날짜 없음' 대신 적힌 날짜(1900-01-01 등)인", "with a placeholder date meaning no date "
                      "(1900-01-01 and the like)"),
    "invalid-number": ("숫자로 읽을 수 없는", "with a number that cannot be read"),
    # (a record whose visit was set aside itself, for its date or as an orphan, is one too: a visit row read again
    # by a diagnosis, order or fee section sets those aside with it)
    "orphan": ("연결된 환자나 내원 기록이 없거나 따로 보관된",
               "linked to a patient or visit that does not exist or was set aside itself"),
    "duplicate": ("번호가 다른 기록과 겹치는", "with a number another record has too"),
    "duplicate-key": ("번호가 다른 기록과 겹치는", "with a number another record has too"),
    "ambiguous-key": ("번호가 다른 기록과 띄어쓰기만 다른", "with a number differing from another's only by spaces"),
    "ambiguous-ref": ("연결된 기록이 둘 이상이라 정할 수 없는", "linked to more than one record"),
    "null-key": ("기록 번호가 없는", "without a record number"),
    "required-missing": ("꼭 필요한 값(예: 환자 성명)이 비어 있는",
                         "with a needed value empty (e.g. the patient's name)"),
    "bad-encoding": ("글자가 깨져 읽을 수 없는", "with damaged characters"),
    "lossy-text": ("글자 일부가 바뀔 수 있는", "with text that would lose characters"),
    "control-characters": ("보이지 않는 특수 문자가 들어 있는", "holding invisible special characters"),
    "status-unread": ("진행 상태를 읽을 수 없는", "with a status that cannot be read"),
    "unreadable-teeth": ("치아 번호를 읽을 수 없는", "with tooth numbers that cannot be read"),
    "unreadable-surface": ("치아 면을 읽을 수 없는", "with tooth surfaces that cannot be read"),
    "unreadable-eye": ("어느 눈인지 읽을 수 없는", "with an eye side that cannot be read"),
    "invalid-rrn": ("주민등록번호 형식이 올바르지 않은", "with a resident registration number that is not valid"),
    "invalid-bool": ("예/아니오로 읽을 수 없는", "with a yes/no value that cannot be read"),
    "invalid-blob": ("저장된 자료가 올바르지 않은", "with stored data that is not valid"),
    "unmapped-code": ("프로그램이 모르는 코드가 적힌", "with a code the program does not know"),
    "mapping": ("국가 표준 형식으로 옮길 수 없는", "not writable in the national format"),
    "unmappable": ("국가 표준 형식으로 옮길 수 없는", "not writable in the national format"),
    "invalid-output": ("국가 표준 형식의 규칙에 맞지 않는", "breaking a rule of the national format"),
    "duplicate-id": ("두 번 읽힌", "read twice"),
    "file-missing": ("첨부 파일을 찾을 수 없는", "whose attached file is missing"),
    "file-unreadable": ("첨부 파일을 열 수 없는", "whose attached file cannot be opened"),
    "path-outside-root": ("첨부 파일이 첨부 폴더 밖에 있는", "whose attached file is outside the attachments folder"),
}
OTHER_WHAT = ("그 밖의 이유로 옮기지 못한", "not transferred for another reason")

#: What the founder must do, for the reasons where something is NOT in the sealed file (an attached file) or the
#: program cannot say why: (Korean, English). Every other reason: nothing to do, everything is kept.
TO_DO: dict[str, tuple[str, str]] = {
    "file-missing": ("EMR의 첨부(스캔) 폴더가 이 PC에 모두 있는지 확인한 뒤 다시 내보내세요.",
                     "check that the EMR's attachments (scans) folder is complete on this PC, then export again."),
    "file-unreadable": ("그 파일을 연 다른 프로그램을 모두 닫은 뒤 다시 내보내세요.",
                        "close every program that has the file open, then export again."),
    "path-outside-root": ("설치를 도와준 업체에 첨부 파일의 위치를 확인해 달라고 하세요.",
                          "ask your IT contractor to check where the attached files are kept."),
}
OTHER_TO_DO = ("설치를 도와준 업체에 알려 주세요.", "tell your IT contractor.")

WORDS: dict[str, tuple[str, str]] = {
    "heading": ("무엇이 따로 보관되었나요", "What was set aside"),
    "none": ("따로 보관된 기록이나 값은 없습니다. 따로 하실 일은 없습니다.",
             "No record or value had to be set aside. Nothing to do."),
    "records": ("{what} 기록 {n}건 ({sections}): 환자 기록으로 옮기지 않고, 원래 모습 그대로 봉인 파일 안에 별도 "
                "보관했습니다.",
                "{n} records {what} ({sections}): not made into patient records, kept exactly as they were "
                "inside the sealed file."),
    "record": ("{what} 기록 {n}건 ({sections}): 환자 기록으로 옮기지 않고, 원래 모습 그대로 봉인 파일 안에 별도 "
               "보관했습니다.",
               "1 record {what} ({sections}): not made into a patient record, kept exactly as it was inside the "
               "sealed file."),
    "value": ("{what} 값 {n}개 ({sections}): 기록은 환자 기록으로 옮겼고, 이 값은 원래 값 그대로 보관되어 환자 기록에 "
              "함께 남습니다.",
              "1 value {what} ({sections}): the record went into the patient records; this value is kept as it was "
              "and stays with it."),
    "values": ("{what} 값 {n}개 ({sections}): 기록은 환자 기록으로 옮겼고, 이 값은 원래 값 그대로 보관되어 환자 기록에 "
               "함께 남습니다.",
               "{n} values {what} ({sections}): the records went into the patient records; these values are kept "
               "as they were and stay with them."),
    "tables": ("이 PC의 EMR 계정이 읽을 수 없는 EMR 표 {n}개 ({tables}): 봉인 파일에 들어가지 않았습니다.",
               "{n} EMR tables this PC's EMR account may not read ({tables}): not in the sealed file."),
    "table": ("이 PC의 EMR 계정이 읽을 수 없는 EMR 표 {n}개 ({tables}): 봉인 파일에 들어가지 않았습니다.",
              "1 EMR table this PC's EMR account may not read ({tables}): not in the sealed file."),
    "table_to_do": ("설치를 도와준 업체에 이 표를 읽을 권한을 달라고 한 뒤 다시 내보내세요.",
                    "ask your IT contractor to let the account read it, then export again."),
    "tables_to_do": ("설치를 도와준 업체에 이 표들을 읽을 권한을 달라고 한 뒤 다시 내보내세요.",
                     "ask your IT contractor to let the account read these tables, then export again."),
    "nothing_to_do": ("따로 하실 일은 없습니다.", "Nothing to do."),
    "to_do": ("하실 일: {what}", "To do: {what}"),
    "section": ("{name} {n}", "{name} {n}"),
}


def _word(key: str, lang: str) -> str:
    return WORDS[key][0 if lang == "ko" else 1]


@dataclass(frozen=True)
class SetAsideLine:
    """One line: ``records`` (rows kept separately) or ``values`` (broken values of exported records) or
    ``tables`` (tables the account may not read), for one reason (``reason``: the code, never shown), with
    ``count`` in all and per section (``sections``: (section, count), in the reconciliation's order); ``text``
    the whole line in its language, ``to_do`` whether the founder must do something."""

    kind: str
    reason: str
    count: int
    sections: tuple[tuple[str, int], ...]
    text: str
    to_do: bool


def _to_do(reason: str, lang: str) -> tuple[str, bool]:
    pick = 0 if lang == "ko" else 1
    if reason in TO_DO or reason not in WHAT:
        what = TO_DO.get(reason, OTHER_TO_DO)[pick]
        return _word("to_do", lang).format(what=what), True
    return _word("nothing_to_do", lang), False


def set_aside_lines(reconciliation: Any, lang: str,
                    name: Callable[[str, str], str] | None = None) -> list[SetAsideLine]:
    """The founder's lines for ``reconciliation`` (a :class:`~emr_exporter.pipeline.export.Reconciliation`):
    records kept separately by reason (most first), then broken values by reason, then tables that could not be
    read. ``name(section, kind)`` names a section (default: the transfer report's names in ``lang``)."""
    if name is None:
        name = lambda section, kind: section_name(section, kind, lang)  # noqa: E731
    pick = 0 if lang == "ko" else 1
    lines: list[SetAsideLine] = []
    kinds = {e.entity: e.kind for e in reconciliation.entities}
    for kind, counts in (("records", "reasons"), ("values", "field_defects")):  # rows kept separately; values
        by_reason: dict[str, list[tuple[str, int]]] = {}
        for entity in reconciliation.entities:
            for reason, n in sorted(getattr(entity, counts).items()):
                if n:
                    by_reason.setdefault(reason, []).append((entity.entity, int(n)))
        for reason, sections in sorted(by_reason.items(), key=lambda item: (-sum(n for _, n in item[1]), item[0])):
            count = sum(n for _, n in sections)
            listed = ", ".join(_word("section", lang).format(name=name(section, kinds.get(section, "")), n=f"{n:,}")
                               for section, n in sections)
            to_do, must = _to_do(reason, lang)
            template = _word(kind if count != 1 else kind.removesuffix("s"), lang)  # "1 record …", "2 records …"
            text = template.format(what=WHAT.get(reason, OTHER_WHAT)[pick], n=f"{count:,}", sections=listed)
            lines.append(SetAsideLine(kind, reason, count, tuple(sections), f"{text} {to_do}", must))
    unread = [entry["name"] for entry in reconciliation.inventory
              if isinstance(entry, Mapping) and entry.get("unreadable")]
    if unread:
        quoted = ", ".join(f"“{table}”" for table in unread)
        which = "table" if len(unread) == 1 else "tables"  # "1 EMR table …", "2 EMR tables …"
        text = _word(which, lang).format(n=f"{len(unread):,}", tables=quoted)
        to_do = _word("to_do", lang).format(what=_word(f"{which}_to_do", lang))
        lines.append(SetAsideLine("tables", "unreadable", len(unread), tuple((t, 0) for t in unread),
                                  f"{text} {to_do}", True))
    return lines


def set_aside_heading(lang: str) -> str:
    return _word("heading", lang)


def set_aside_text(reconciliation: Any, lang: str, name: Callable[[str, str], str] | None = None) -> str:
    """The heading and one "• " line per reason (:func:`set_aside_lines`), or the heading and "nothing"."""
    lines = set_aside_lines(reconciliation, lang, name)
    body = [f"• {line.text}" for line in lines] if lines else [_word("none", lang)]
    return "\n".join([set_aside_heading(lang), *body])


def locale_language(environ: Mapping[str, str] | None = None) -> str:
    """"ko" when the terminal's locale is Korean (``LC_ALL``, else ``LC_MESSAGES``, else ``LANG``, as POSIX reads
    them; with none set, the system's: ``Korean_Korea`` on a Korean Windows), else "en"."""
    env = os.environ if environ is None else environ
    for variable in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(variable)
        if value:
            return "ko" if value.lower().startswith("ko") else "en"
    system = locale.getlocale()[0] or ""
    return "ko" if system.lower().startswith("ko") else "en"
