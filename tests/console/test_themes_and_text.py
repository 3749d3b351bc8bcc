"""Theme files, keymap ids and the pure text helpers the screens rely on."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from tests.console.helpers import FIXED_NOW, settle
from triage_tui.console.format import sla_text, sparkline, split_quotes
from triage_tui.console.keymap import binding_ids, split_keymap
from triage_tui.console.palette import COMMANDS
from triage_tui.console.themes import ThemeFileError, bundled_theme_dir, load_themes, parse_theme
from triage_tui.domain import MessageState, QueueItem

REPO_THEMES = Path(__file__).resolve().parents[2] / "themes"


class TestThemeFiles:
    """Bundled themes load, match the repo's themes/ folder, and broken files are named."""

    def test_three_bundled_themes_load_without_errors(self):
        loaded = load_themes(bundled_theme_dir())
        assert loaded.errors == []
        assert {"triage-dark", "triage-light", "triage-high-contrast"} <= set(loaded.themes)
        assert loaded.themes["triage-light"].dark is False

    def test_repo_themes_folder_holds_the_same_files_as_the_package(self):
        packaged = {p.name: p.read_bytes() for p in bundled_theme_dir().glob("*.toml")}
        repo = {p.name: p.read_bytes() for p in REPO_THEMES.glob("*.toml")}
        assert packaged == repo

    @pytest.mark.parametrize("text, message", [
        ('name = "x"\nprimary = "not-a-colour"', "not a colour"),
        ('primary = "#fff"', "`name` is required"),
        ('name = "x"', "`primary` is required"),
        ('name = "x"\nprimary = "#fff"\nshiny = true', "unknown key 'shiny'"),
        ('name = "x"\nprimary = "#fff"\n[variables]\nnope = "#fff"', "variables.nope"),
        ('name = "x" primary', "not valid TOML"),
    ])
    def test_broken_theme_is_refused_with_a_named_reason(self, text, message):
        with pytest.raises(ThemeFileError, match=message):
            parse_theme(text, source="mine.toml")

    async def test_broken_user_theme_gives_one_toast_and_the_default(self, seeded, app_factory, db_url,
                                                                   tmp_path):
        from tests.console.helpers import make_config

        (tmp_path / "good.toml").write_text('name = "mine"\nprimary = "#ff0000"\n')
        (tmp_path / "bad.toml").write_text('name = "broken"\nprimary = "#zzzzzz"\n')
        config = make_config(db_url, theme="broken")
        app = app_factory(config=config, theme_dirs=[bundled_theme_dir(), tmp_path])
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            assert app.theme == "triage-dark"
            assert "mine" in app.available_themes and "broken" not in app.available_themes
            toasts = [n for n in app._notifications if n.title == "Theme"]
            assert len(toasts) == 1 and "bad.toml" in toasts[0].message


class TestKeymapAndPalette:
    """Every binding has an id; the palette covers every decision."""

    def test_unknown_ids_are_reported_and_known_ones_kept(self):
        usable, unknown = split_keymap({"ticket.approve": "ctrl+a", "ticket.aprove": "z"})
        assert usable == {"ticket.approve": "ctrl+a"} and unknown == ["ticket.aprove"]

    def test_ids_are_namespaced_and_unique_per_screen(self):
        assert "app.stop_switch" in binding_ids()
        assert all("." in binding_id for binding_id in binding_ids())

    def test_palette_offers_every_decision(self):
        actions = {action for _, action, _ in COMMANDS}
        assert {"approve", "change", "reject", "snooze", "dismiss_spam", "reply", "solve", "reopen", "toggle_view",
                "app.stop_switch"} <= actions


class TestText:
    """Quotes fold, ages compare with the SLA, sparklines scale."""

    def test_quoted_blocks_are_split_from_the_reply(self):
        body = "Thanks!\n\nOn Mon, Bob wrote:\n> old text\n> more\n\nP.S. one more thing"
        blocks = split_quotes(body)
        assert [b.quoted for b in blocks] == [False, True, False]
        assert blocks[1].lines[0] == "On Mon, Bob wrote:"

    def test_on_wrote_without_quoted_lines_is_plain_text(self):
        assert [b.quoted for b in split_quotes("On Monday, Bob wrote: hi\nthanks")] == [False]

    def test_original_message_marker_folds_the_rest(self):
        blocks = split_quotes("See below\n-----Original Message-----\nFrom: x\nold")
        assert [b.quoted for b in blocks] == [False, True]

    def test_sla_over_and_within(self):
        def item(urgency, minutes):
            return QueueItem(key=1, grant_id="g", message_id="m", thread_id="t", subject="s", sender="a",
                             received_at=FIXED_NOW - timedelta(minutes=minutes), state=MessageState.NEW,
                             urgency=urgency)
        sla = {"critical": 30, "normal": 480}
        assert sla_text(item("critical", 45), FIXED_NOW, sla) == "45m OVER"
        assert sla_text(item("normal", 45), FIXED_NOW, sla) == "45m/8h"

    def test_sparkline_scales_to_the_peak(self):
        assert sparkline([0, 5, 10]) == "▁▅█" and sparkline([0, 0]) == "▁▁"

    def test_hidden_and_control_characters_become_visible(self):
        from triage_tui.console.format import clip, reveal_hidden

        assert reveal_hidden("pay\u202eexe.pdf\u200b") == "pay⟦U+202E⟧exe.pdf⟦U+200B⟧"
        assert reveal_hidden("\x1b[2Jline\nnext") == "⟦U+001B⟧[2Jline\nnext"
        assert clip("a\u200bb", 20).startswith("a⟦U+200B⟧b")

    def test_html_only_mail_is_converted_to_text(self):
        from triage_tui.console.widgets.thread_view import readable_body
        from triage_tui.domain import InboundMessage

        message = InboundMessage(grant_id="g", message_id="m", received_at=FIXED_NOW,
                                 body_html="<p>Hello <b>there</b></p><blockquote>old</blockquote>")
        text = readable_body(message)
        assert "Hello **there**" in text and "<p>" not in text

    def test_auto_replies_and_bounces_are_called_out(self):
        from triage_tui.console.format import message_warnings
        from triage_tui.domain import Address, InboundMessage, MailSignals

        message = InboundMessage(grant_id="g", message_id="m", received_at=FIXED_NOW,
                                 sender=Address(email="a@x.example"),
                                 reply_to=[Address(email="b@y.example")])
        warnings = message_warnings(message, MailSignals(auto_reply=True, bounce=True))
        assert any("auto-reply" in w for w in warnings) and any("bounce" in w for w in warnings)
        assert any("Reply-To (b@y.example) differs" in w for w in warnings)


class TestColumns:
    """Queue columns give way on narrow terminals in the documented order; the subject keeps priority."""

    @pytest.mark.parametrize("width", range(60, 241, 10))
    def test_every_width_is_filled_exactly_and_the_subject_keeps_its_share(self, width):
        from triage_tui.console.columns import SUBJECT_SHARE, layout

        for conversations in (True, False):
            shown = layout(width, conversations=conversations)
            assert sum(w for _, w in shown) + len(shown) - 1 == width
            subject = dict((c.id, w) for c, w in shown)["subject"]
            assert subject >= int(width * SUBJECT_SHARE)

    def test_narrowing_then_dropping_in_the_documented_order(self):
        from triage_tui.console.columns import COLUMNS, DROP_ORDER, layout, narrowing_help

        ids = {w: [c.id for c, _ in layout(w)] for w in (80, 120, 200)}
        assert ids[200] == ["mark", "urgency", "subject", "count", "sender", "category", "waiting", "status",
                            "ticket", "flags", "reviewer"]
        assert {"ticket", "flags", "reviewer", "count", "status"} <= set(ids[120])
        assert ids[80] == ["mark", "urgency", "subject", "count", "sender", "category", "waiting", "status"]
        gone = [c for c in DROP_ORDER if c not in ids[80]]
        assert gone == list(DROP_ORDER[:len(gone)])  # dropped from the front of the order only
        assert all(c.title in narrowing_help() for c in COLUMNS if c.id in DROP_ORDER)
