-- A change's payload holds the whole instance (endpoints up to 8192 characters, metadata up to 16384)
-- and its reason, JSON-escaped: more than 32768 characters at the limits, which failed the change.
-- SET DATA TYPE is the form H2 and PostgreSQL share.
ALTER TABLE change_event ALTER COLUMN payload SET DATA TYPE VARCHAR(131072);
