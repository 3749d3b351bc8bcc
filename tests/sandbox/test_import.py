"""load_mail: .eml directories, maildirs and mbox files, with broken entries skipped and named."""

import mailbox

import pytest

from triage_tui.sandbox.importer import ImportPathError, load_mail
from triage_tui.sandbox.mime import parse_mime
from triage_tui.sandbox.seed import generate_mailbox

BROKEN = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR this is no mail"


@pytest.fixture(scope="module")
def seeded():
    """Eight generated mails with LF line endings, as mail tools write them to disk."""
    mails = generate_mailbox(21, 8, agent_email="support@agent.example", now=1_795_745_760)
    return [mail.raw.replace(b"\r\n", b"\n") for mail in mails]


def _subjects(raws):
    return sorted(parse_mime(raw).subject for raw in raws)


def test_eml_directory_imports_every_mail_and_names_the_broken_file(tmp_path, seeded):
    (tmp_path / "nested").mkdir()
    for index, raw in enumerate(seeded):
        folder = tmp_path / "nested" if index % 2 else tmp_path
        (folder / f"mail-{index}.eml").write_bytes(raw)
    (tmp_path / "broken.eml").write_bytes(BROKEN)
    (tmp_path / "empty.eml").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("not mail")
    result = load_mail(tmp_path)
    assert _subjects(result.mails) == _subjects(seeded)
    skipped = dict(result.skipped)
    assert set(skipped) == {"broken.eml", "empty.eml", "notes.txt"}
    assert "no mail headers" in skipped["broken.eml"] and skipped["empty.eml"] == "empty file"


def test_maildir_reads_new_and_cur_and_skips_the_broken_entry(tmp_path, seeded):
    box = mailbox.Maildir(tmp_path / "Mail", create=True)
    for raw in seeded[:5]:
        box.add(raw)
    (tmp_path / "Mail" / "cur" / "1700000000.broken:2,S").write_bytes(BROKEN)
    moved = mailbox.MaildirMessage(seeded[5])
    moved.set_subdir("cur")
    box.add(moved)
    result = load_mail(str(tmp_path / "Mail"))
    assert _subjects(result.mails) == _subjects(seeded[:6])
    assert [name for name, _ in result.skipped] == ["cur/1700000000.broken:2,S"]


def test_mbox_imports_each_message_and_names_the_broken_one_by_position(tmp_path, seeded):
    path = tmp_path / "support.mbox"
    box = mailbox.mbox(path)
    box.add(seeded[0])
    box.add(b"From: \n\nnothing here but a broken header line\n".replace(b"From: \n", b""))
    for raw in seeded[1:4]:
        box.add(raw)
    box.flush()
    box.close()
    result = load_mail(path)
    assert _subjects(result.mails) == _subjects(seeded[:4])
    assert [name for name, _ in result.skipped] == ["support.mbox#2"]


def test_a_single_eml_file_and_a_bad_path(tmp_path, seeded):
    single = tmp_path / "one.eml"
    single.write_bytes(seeded[0])
    assert load_mail(single).mails == [seeded[0]]
    with pytest.raises(ImportPathError, match="no such file"):
        load_mail(tmp_path / "missing")
