-- The schema triage-tui wrote at version 1 (PostgreSQL, pg_dump --schema-only), frozen for migration tests.
CREATE FUNCTION public.triage_notify_change() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    PERFORM pg_notify('triage_changes', TG_TABLE_NAME);
    RETURN NULL;
END
$$;
CREATE TABLE public.audit (
    id integer NOT NULL,
    at double precision NOT NULL,
    actor character varying(255) NOT NULL,
    action character varying(255) NOT NULL,
    tenant_id character varying(255) NOT NULL,
    environment character varying(255) NOT NULL,
    agent_account_email character varying(255) NOT NULL,
    grant_id character varying(255) NOT NULL,
    workspace_id character varying(255) NOT NULL,
    policy_id character varying(255) NOT NULL,
    rule_ids text NOT NULL,
    message_id character varying(255) NOT NULL,
    thread_id character varying(255) NOT NULL,
    ticket_id character varying(255) NOT NULL,
    decision_id character varying(255) NOT NULL,
    event_id character varying(255) NOT NULL,
    dedupe_key character varying(255) NOT NULL,
    webhook_trigger character varying(255) NOT NULL,
    webhook_received_at double precision,
    classification_version character varying(255) NOT NULL,
    command_result_id character varying(255) NOT NULL,
    detail text NOT NULL
);
CREATE SEQUENCE public.audit_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE public.audit_id_seq OWNED BY public.audit.id;
CREATE TABLE public.control (
    key character varying(255) NOT NULL,
    "on" boolean NOT NULL,
    actor character varying(255) NOT NULL,
    reason text NOT NULL,
    since double precision,
    until double precision,
    version bigint NOT NULL,
    updated_at double precision NOT NULL
);
CREATE TABLE public.decisions (
    id integer NOT NULL,
    decision_id character varying(255) NOT NULL,
    grant_id character varying(255) NOT NULL,
    message_id character varying(255) NOT NULL,
    thread_id character varying(255) NOT NULL,
    kind character varying(255) NOT NULL,
    category character varying(255) NOT NULL,
    urgency character varying(255) NOT NULL,
    reason text NOT NULL,
    actor character varying(255) NOT NULL,
    decided_at double precision NOT NULL,
    ticket_id character varying(255) NOT NULL,
    snooze_until double precision,
    command_result_id character varying(255) NOT NULL
);
CREATE SEQUENCE public.decisions_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE public.decisions_id_seq OWNED BY public.decisions.id;
CREATE TABLE public.message_bodies (
    id integer NOT NULL,
    message_id integer NOT NULL,
    body_text text NOT NULL,
    body_html text NOT NULL,
    snippet text NOT NULL,
    headers text NOT NULL,
    to_addrs text NOT NULL,
    cc_addrs text NOT NULL,
    reply_to text NOT NULL,
    attachments text NOT NULL,
    internet_message_id text NOT NULL,
    in_reply_to text NOT NULL,
    "references" text NOT NULL,
    hidden_characters text NOT NULL,
    signals text NOT NULL,
    truncated boolean NOT NULL
);
CREATE SEQUENCE public.message_bodies_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE public.message_bodies_id_seq OWNED BY public.message_bodies.id;
CREATE TABLE public.messages (
    id integer NOT NULL,
    tenant_id character varying(255) NOT NULL,
    environment character varying(255) NOT NULL,
    agent_account_email character varying(255) NOT NULL,
    grant_id character varying(255) NOT NULL,
    workspace_id character varying(255) NOT NULL,
    policy_id character varying(255) NOT NULL,
    rule_ids text NOT NULL,
    message_id character varying(255) NOT NULL,
    thread_id character varying(255) NOT NULL,
    folder_ids text NOT NULL,
    label_ids text NOT NULL,
    dedupe_key character varying(255) NOT NULL,
    subject text NOT NULL,
    sender_email character varying(255) NOT NULL,
    sender_name character varying(255) NOT NULL,
    received_at double precision NOT NULL,
    state character varying(255) NOT NULL,
    category character varying(255) NOT NULL,
    urgency character varying(255) NOT NULL,
    urgency_rank integer NOT NULL,
    confidence double precision NOT NULL,
    flags text NOT NULL,
    ticket_id character varying(255) NOT NULL,
    classification_version character varying(255) NOT NULL,
    webhook_trigger character varying(255) NOT NULL,
    webhook_received_at double precision,
    event_id character varying(255) NOT NULL,
    attempts integer NOT NULL,
    last_error text NOT NULL,
    snooze_until double precision,
    created_at double precision NOT NULL,
    updated_at double precision NOT NULL
);
CREATE SEQUENCE public.messages_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE public.messages_id_seq OWNED BY public.messages.id;
CREATE TABLE public.meta (
    key character varying(255) NOT NULL,
    value text NOT NULL
);
CREATE TABLE public.outbox (
    id integer NOT NULL,
    command_result_id character varying(255) NOT NULL,
    kind character varying(255) NOT NULL,
    decision_id character varying(255) NOT NULL,
    tenant_id character varying(255) NOT NULL,
    environment character varying(255) NOT NULL,
    grant_id character varying(255) NOT NULL,
    reply_to_message_id character varying(255) NOT NULL,
    thread_id character varying(255) NOT NULL,
    ticket_id character varying(255) NOT NULL,
    to_addrs text NOT NULL,
    cc_addrs text NOT NULL,
    subject text NOT NULL,
    body text NOT NULL,
    content_hash character varying(255) NOT NULL,
    state character varying(255) NOT NULL,
    approved_by character varying(255) NOT NULL,
    approved_at double precision NOT NULL,
    expires_at double precision,
    attempts integer NOT NULL,
    lease_owner character varying(255) NOT NULL,
    lease_expires_at double precision,
    fencing_token bigint NOT NULL,
    first_attempt_at double precision,
    sent_at double precision,
    sent_message_id character varying(255) NOT NULL,
    last_error text NOT NULL,
    created_at double precision NOT NULL,
    updated_at double precision NOT NULL
);
CREATE SEQUENCE public.outbox_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE public.outbox_id_seq OWNED BY public.outbox.id;
CREATE TABLE public.review_leases (
    id integer NOT NULL,
    message_id integer NOT NULL,
    holder character varying(255) NOT NULL,
    expires_at double precision NOT NULL
);
CREATE SEQUENCE public.review_leases_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE public.review_leases_id_seq OWNED BY public.review_leases.id;
CREATE TABLE public.suggestions (
    id integer NOT NULL,
    message_id integer NOT NULL,
    category character varying(255) NOT NULL,
    urgency character varying(255) NOT NULL,
    confidence double precision NOT NULL,
    reasons text NOT NULL,
    classification_version character varying(255) NOT NULL,
    needs_human boolean NOT NULL,
    created_at double precision NOT NULL
);
CREATE SEQUENCE public.suggestions_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE public.suggestions_id_seq OWNED BY public.suggestions.id;
CREATE TABLE public.threads (
    id integer NOT NULL,
    grant_id character varying(255) NOT NULL,
    thread_id character varying(255) NOT NULL,
    subject text NOT NULL,
    message_ids text NOT NULL,
    participants text NOT NULL,
    latest_message_at double precision,
    ticket_id character varying(255) NOT NULL,
    updated_at double precision NOT NULL
);
CREATE SEQUENCE public.threads_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE public.threads_id_seq OWNED BY public.threads.id;
CREATE TABLE public.tickets (
    id integer NOT NULL,
    ticket_id character varying(255) NOT NULL,
    tenant_id character varying(255) NOT NULL,
    environment character varying(255) NOT NULL,
    grant_id character varying(255) NOT NULL,
    thread_id character varying(255) NOT NULL,
    category character varying(255) NOT NULL,
    urgency character varying(255) NOT NULL,
    status character varying(255) NOT NULL,
    created_at double precision NOT NULL,
    created_by character varying(255) NOT NULL,
    decision_id character varying(255) NOT NULL
);
CREATE SEQUENCE public.tickets_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE public.tickets_id_seq OWNED BY public.tickets.id;
CREATE TABLE public.watermarks (
    grant_id character varying(255) NOT NULL,
    received_after bigint NOT NULL,
    last_sync_at double precision,
    last_error text NOT NULL
);
CREATE TABLE public.webhook_events (
    id integer NOT NULL,
    event_id character varying(255) NOT NULL,
    grant_id character varying(255) NOT NULL,
    message_id character varying(255) NOT NULL,
    trigger character varying(255) NOT NULL,
    received_at double precision NOT NULL,
    raw bytea NOT NULL,
    status character varying(255) NOT NULL,
    attempts integer NOT NULL,
    error text NOT NULL,
    processed_at double precision
);
CREATE SEQUENCE public.webhook_events_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE public.webhook_events_id_seq OWNED BY public.webhook_events.id;
ALTER TABLE ONLY public.audit ALTER COLUMN id SET DEFAULT nextval('public.audit_id_seq'::regclass);
ALTER TABLE ONLY public.decisions ALTER COLUMN id SET DEFAULT nextval('public.decisions_id_seq'::regclass);
ALTER TABLE ONLY public.message_bodies ALTER COLUMN id SET DEFAULT nextval('public.message_bodies_id_seq'::regclass);
ALTER TABLE ONLY public.messages ALTER COLUMN id SET DEFAULT nextval('public.messages_id_seq'::regclass);
ALTER TABLE ONLY public.outbox ALTER COLUMN id SET DEFAULT nextval('public.outbox_id_seq'::regclass);
ALTER TABLE ONLY public.review_leases ALTER COLUMN id SET DEFAULT nextval('public.review_leases_id_seq'::regclass);
ALTER TABLE ONLY public.suggestions ALTER COLUMN id SET DEFAULT nextval('public.suggestions_id_seq'::regclass);
ALTER TABLE ONLY public.threads ALTER COLUMN id SET DEFAULT nextval('public.threads_id_seq'::regclass);
ALTER TABLE ONLY public.tickets ALTER COLUMN id SET DEFAULT nextval('public.tickets_id_seq'::regclass);
ALTER TABLE ONLY public.webhook_events ALTER COLUMN id SET DEFAULT nextval('public.webhook_events_id_seq'::regclass);
ALTER TABLE ONLY public.audit
    ADD CONSTRAINT audit_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.control
    ADD CONSTRAINT control_pkey PRIMARY KEY (key);
ALTER TABLE ONLY public.decisions
    ADD CONSTRAINT decisions_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.message_bodies
    ADD CONSTRAINT message_bodies_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.messages
    ADD CONSTRAINT messages_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.meta
    ADD CONSTRAINT meta_pkey PRIMARY KEY (key);
ALTER TABLE ONLY public.outbox
    ADD CONSTRAINT outbox_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.review_leases
    ADD CONSTRAINT review_leases_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.suggestions
    ADD CONSTRAINT suggestions_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.threads
    ADD CONSTRAINT threads_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.tickets
    ADD CONSTRAINT tickets_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.watermarks
    ADD CONSTRAINT watermarks_pkey PRIMARY KEY (grant_id);
ALTER TABLE ONLY public.webhook_events
    ADD CONSTRAINT webhook_events_pkey PRIMARY KEY (id);
CREATE INDEX audit_action ON public.audit USING btree (action);
CREATE INDEX audit_at ON public.audit USING btree (at);
CREATE INDEX audit_message_id ON public.audit USING btree (message_id);
CREATE INDEX decisions_decided_at ON public.decisions USING btree (decided_at);
CREATE UNIQUE INDEX decisions_decision_id ON public.decisions USING btree (decision_id);
CREATE INDEX decisions_grant_id_message_id ON public.decisions USING btree (grant_id, message_id);
CREATE UNIQUE INDEX message_bodies_message_id ON public.message_bodies USING btree (message_id);
CREATE UNIQUE INDEX messages_grant_id_message_id ON public.messages USING btree (grant_id, message_id);
CREATE INDEX messages_grant_id_thread_id ON public.messages USING btree (grant_id, thread_id);
CREATE INDEX messages_state_urgency_rank_received_at_id ON public.messages USING btree (state, urgency_rank, received_at, id);
CREATE INDEX messages_urgency_rank_received_at_id ON public.messages USING btree (urgency_rank, received_at, id);
CREATE UNIQUE INDEX outbox_command_result_id ON public.outbox USING btree (command_result_id);
CREATE INDEX outbox_grant_id_sent_at ON public.outbox USING btree (grant_id, sent_at);
CREATE INDEX outbox_state_created_at ON public.outbox USING btree (state, created_at);
CREATE UNIQUE INDEX review_leases_message_id ON public.review_leases USING btree (message_id);
CREATE UNIQUE INDEX suggestions_message_id ON public.suggestions USING btree (message_id);
CREATE UNIQUE INDEX threads_grant_id_thread_id ON public.threads USING btree (grant_id, thread_id);
CREATE UNIQUE INDEX tickets_grant_id_thread_id ON public.tickets USING btree (grant_id, thread_id);
CREATE UNIQUE INDEX tickets_ticket_id ON public.tickets USING btree (ticket_id);
CREATE UNIQUE INDEX webhook_events_event_id ON public.webhook_events USING btree (event_id);
CREATE INDEX webhook_events_status_id ON public.webhook_events USING btree (status, id);
CREATE TRIGGER triage_notify_control AFTER INSERT OR DELETE OR UPDATE ON public.control FOR EACH STATEMENT EXECUTE FUNCTION public.triage_notify_change();
CREATE TRIGGER triage_notify_decisions AFTER INSERT OR DELETE OR UPDATE ON public.decisions FOR EACH STATEMENT EXECUTE FUNCTION public.triage_notify_change();
CREATE TRIGGER triage_notify_messages AFTER INSERT OR DELETE OR UPDATE ON public.messages FOR EACH STATEMENT EXECUTE FUNCTION public.triage_notify_change();
CREATE TRIGGER triage_notify_outbox AFTER INSERT OR DELETE OR UPDATE ON public.outbox FOR EACH STATEMENT EXECUTE FUNCTION public.triage_notify_change();
CREATE TRIGGER triage_notify_review_leases AFTER INSERT OR DELETE OR UPDATE ON public.review_leases FOR EACH STATEMENT EXECUTE FUNCTION public.triage_notify_change();
CREATE TRIGGER triage_notify_suggestions AFTER INSERT OR DELETE OR UPDATE ON public.suggestions FOR EACH STATEMENT EXECUTE FUNCTION public.triage_notify_change();
CREATE TRIGGER triage_notify_tickets AFTER INSERT OR DELETE OR UPDATE ON public.tickets FOR EACH STATEMENT EXECUTE FUNCTION public.triage_notify_change();
ALTER TABLE ONLY public.message_bodies
    ADD CONSTRAINT message_bodies_message_id_fkey FOREIGN KEY (message_id) REFERENCES public.messages(id) ON DELETE CASCADE;
ALTER TABLE ONLY public.review_leases
    ADD CONSTRAINT review_leases_message_id_fkey FOREIGN KEY (message_id) REFERENCES public.messages(id) ON DELETE CASCADE;
ALTER TABLE ONLY public.suggestions
    ADD CONSTRAINT suggestions_message_id_fkey FOREIGN KEY (message_id) REFERENCES public.messages(id) ON DELETE CASCADE;
INSERT INTO public.meta (key, value) VALUES ('schema_version', '1');
