"""The fakes follow each tracker's contract: the official Python clients work against them unchanged,
and what triage-tui writes is read back by those clients (the webhook signature by `standardwebhooks`)."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest

from triage_tui.domain import TrackerOp
from triage_tui.store.tracker_writes import link_back
from triage_tui.trackers.registry import build_tracker
from tests.trackers.helpers import facts, make_config, request, tracker_settings


def _written(kind, fake, **overrides):
    config = make_config(trackers={"t": tracker_settings(kind, fake, **overrides)}, default="t")
    tracker = build_tracker(config, "t")
    f = facts()
    created = tracker.write(request(TrackerOp.CREATE, {**f.model_dump(mode="json"), "link": link_back(config, f)}))
    return tracker, created, f


def test_pygithub_reads_what_we_wrote_and_sees_github_errors(make_fake):
    github = pytest.importorskip("github")
    fake = make_fake("github")
    tracker, created, f = _written("github", fake)
    client = github.Github(auth=github.Auth.Token(fake.token), base_url=fake.url, retry=None,
                           seconds_between_requests=None, seconds_between_writes=None, lazy=True)
    repo = client.get_repo("acme/support")
    issue = repo.get_issue(int(created.external_id))
    assert issue.title == f.subject and issue.html_url == created.url and "category:account_access" in \
        [label.name for label in issue.labels]
    issue.create_comment("from PyGithub")
    issue.edit(state="closed", state_reason="completed")
    assert [i.number for i in repo.get_issues(state="closed", since=dt.datetime(2020, 1, 1))] == [issue.number]
    bad = github.Github(auth=github.Auth.Token("wrong"), base_url=fake.url, retry=None, lazy=True)
    with pytest.raises(github.BadCredentialsException):
        bad.get_repo("acme/support").create_issue(title="refused")
    fake.set_faults(script=[{"fault": "status", "status": 429, "retry_after": 3}])
    with pytest.raises(github.GithubException) as caught:
        repo.create_issue(title="limited")
    assert caught.value.status == 429 and caught.value.headers.get("retry-after") == "3"


def test_the_jira_client_reads_our_issue_comment_property_and_transitions(make_fake):
    jira = pytest.importorskip("jira")
    fake = make_fake("jira")
    tracker, created, f = _written("jira", fake)
    client = jira.JIRA(server=fake.url, basic_auth=("bot@example.com", fake.token),
                       options={"rest_api_version": "3"}, max_retries=0)
    issue = client.issue(created.external_key)
    assert issue.fields.summary == f.subject and issue.raw["fields"]["description"]["type"] == "doc"
    assert client.issue_property(created.external_key, "triage.outbox").value.ticket_id == f.ticket_id
    label = next(lbl for lbl in issue.fields.labels if lbl.startswith("triage-k-"))
    assert [i.key for i in client.enhanced_search_issues(f'project = SUP AND labels = "{label}"')] == [issue.key]
    tracker.write(request(TrackerOp.STATUS, {"status": "solved"}, ref=created.ref()))
    assert client.issue(issue.key).fields.status.name == "Done"
    with pytest.raises(jira.JIRAError) as caught:
        client.transition_issue(issue.key, "31")  # Done is no longer offered from Done
    assert caught.value.status_code == 400


def test_zenpy_reads_our_ticket_with_its_requester_and_private_comment(make_fake, monkeypatch):
    pytest.importorskip("zenpy")
    fake = make_fake("zendesk")
    monkeypatch.setenv("ZENPY_FORCE_SCHEME", "http")
    monkeypatch.setenv("ZENPY_FORCE_NETLOC", f"127.0.0.1:{fake.port}")
    from zenpy import Zenpy

    tracker, created, f = _written("zendesk", fake)
    client = Zenpy(subdomain="sandbox", email="agent@example.com", token=fake.token)
    ticket = client.tickets(id=int(created.external_id))
    assert ticket.subject == f.subject and ticket.priority == "high" and "triage-tui" in ticket.tags
    assert client.users(id=ticket.requester_id).email == "jane@customer.example"
    comments = list(client.tickets.comments(ticket=ticket.id))
    assert not comments[0].public and "untrusted" in comments[0].body
    assert [t.id for t in client.tickets(external_id=ticket.external_id)] == [ticket.id]


def test_linear_queries_validate_against_the_schema_with_gql(make_fake):
    gql = pytest.importorskip("gql")
    from gql.transport.httpx import HTTPXTransport

    from triage_tui.trackers import linear

    fake = make_fake("linear")
    tracker, created, f = _written("linear", fake)
    client = gql.Client(transport=HTTPXTransport(url=f"{fake.url}/graphql", headers={"Authorization": fake.token}))
    from graphql import parse, validate

    from triage_tui.sandbox.trackers.linear import SCHEMA

    for query in (linear.ISSUE_CREATE, linear.COMMENT_CREATE, linear.ISSUE_UPDATE, linear.ISSUE, linear.COMMENT,
                  linear.STATES):
        assert validate(SCHEMA, parse(query)) == []  # every query we send is valid against the schema
    found = client.execute(gql.GraphQLRequest(linear.ISSUE, variable_values={"id": created.external_id}))
    assert found["issue"]["identifier"] == created.external_key
    with pytest.raises(gql.transport.exceptions.TransportQueryError, match="Entity not found"):
        client.execute(gql.GraphQLRequest(linear.ISSUE, variable_values={"id": str(uuid.uuid4())}))


def test_standard_webhooks_verifies_our_signature_on_the_exact_bytes(make_fake):
    standardwebhooks = pytest.importorskip("standardwebhooks")
    from triage_tui.trackers.webhook import event_body, sign

    fake = make_fake("webhook")
    tracker, created, f = _written("webhook", fake)
    assert created.external_key == "WH-1" and fake.state()["refused"] == []
    req = request(TrackerOp.CREATE, {**f.model_dump(mode="json"), "link": "x"})
    body = event_body("t", req)
    stamp = int(dt.datetime.now(dt.timezone.utc).timestamp())
    headers = {"webhook-id": req.command_result_id, "webhook-timestamp": str(stamp),
               "webhook-signature": sign(tracker.key, req.command_result_id, stamp, body)}
    verified = standardwebhooks.Webhook(fake.token).verify(body, headers)
    assert verified["data"]["customer_text"]["untrusted"] is True
    with pytest.raises(standardwebhooks.WebhookVerificationError):
        standardwebhooks.Webhook(fake.token).verify(json.dumps(json.loads(body), indent=1), headers)
