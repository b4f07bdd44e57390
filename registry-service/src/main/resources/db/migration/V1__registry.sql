-- The fabric registry. Portable SQL: the same statements run on H2 (embedded default) and PostgreSQL.

CREATE TABLE service_instance (
    id                VARCHAR(128)  NOT NULL PRIMARY KEY,
    type              VARCHAR(64)   NOT NULL,
    name              VARCHAR(128)  NOT NULL,
    state             VARCHAR(16)   NOT NULL,
    state_reason      VARCHAR(1024),
    incarnation       BIGINT        NOT NULL,
    parent_id         VARCHAR(128),
    connectivity      VARCHAR(32)   NOT NULL,
    endpoints         VARCHAR(8192) NOT NULL,
    metadata          VARCHAR(16384) NOT NULL,
    registered_at     TIMESTAMP WITH TIME ZONE NOT NULL,
    updated_at        TIMESTAMP WITH TIME ZONE NOT NULL,
    last_heartbeat_at TIMESTAMP WITH TIME ZONE NOT NULL
);

CREATE INDEX service_instance_liveness ON service_instance (state, last_heartbeat_at);
CREATE INDEX service_instance_type ON service_instance (type);
CREATE INDEX service_instance_parent ON service_instance (parent_id);

-- Every state change of every instance, kept after the instance is deregistered.
CREATE TABLE state_transition (
    instance_id VARCHAR(128)  NOT NULL,
    seq         BIGINT        NOT NULL,
    incarnation BIGINT        NOT NULL,
    from_state  VARCHAR(16),
    to_state    VARCHAR(16)   NOT NULL,
    reason      VARCHAR(1024) NOT NULL,
    at          TIMESTAMP WITH TIME ZONE NOT NULL,
    PRIMARY KEY (instance_id, seq)
);

CREATE TABLE instance_session (
    session_id    VARCHAR(128) NOT NULL,
    instance_id   VARCHAR(128) NOT NULL,
    registered_at TIMESTAMP WITH TIME ZONE NOT NULL,
    PRIMARY KEY (session_id, instance_id)
);

CREATE INDEX instance_session_instance ON instance_session (instance_id);

-- One row: the registry's revision. Every change takes its row lock to number itself, so changes
-- commit in revision order and a watcher reading "revision > n" never skips one.
CREATE TABLE registry_revision (
    id       INT    NOT NULL PRIMARY KEY,
    revision BIGINT NOT NULL
);

INSERT INTO registry_revision (id, revision) VALUES (1, 0);

CREATE TABLE change_event (
    revision    BIGINT        NOT NULL PRIMARY KEY,
    instance_id VARCHAR(128)  NOT NULL,
    kind        VARCHAR(32)   NOT NULL,
    payload     VARCHAR(32768) NOT NULL,
    at          TIMESTAMP WITH TIME ZONE NOT NULL
);
