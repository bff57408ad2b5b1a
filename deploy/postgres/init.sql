-- Run once by the postgres image when its data directory is first created
-- (/docker-entrypoint-initdb.d), as the superuser. Two roles, two owners:
--   temporal  owns Temporal's databases (temporal, temporal_visibility), which the schema
--             tool creates; it needs CREATEDB for that and nothing else.
--   shixian   owns the read model (database shixian) and nothing else: a leaked worker or
--             dashboard password cannot touch Temporal's history.
-- Change both passwords (and the URLs in docker-compose.yml) before real use.
CREATE ROLE temporal LOGIN CREATEDB PASSWORD 'temporal';
CREATE ROLE shixian LOGIN PASSWORD 'shixian';
CREATE DATABASE shixian OWNER shixian;
REVOKE ALL ON DATABASE shixian FROM PUBLIC;
