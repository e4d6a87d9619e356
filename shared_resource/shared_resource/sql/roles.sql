-- duet's database and its three roles. Idempotent: safe to run on every deploy.
--
-- Run as a superuser (or a role with CREATEROLE and CREATEDB) with psql:
--
--   psql -v ON_ERROR_STOP=1 -v db=duet -v migrator=duet_migrator -v web=duet_web \
--        -v worker=duet_worker [-v migrator_password_file=PATH -v web_password_file=PATH \
--        -v worker_password_file=PATH] -f roles.sql
--
-- Roles:
--   migrator  owns the database, the schema and every table; only `migrate` uses it.
--   web       DML on all tables (through default privileges of the migrator).
--   worker    DML on common_* tables and SELECT on django_migrations only. Those grants are
--             made by `migrate` itself (shared_resource/grants.py), because PostgreSQL's
--             default privileges cannot pick tables by name.
-- A role without a password file keeps its password (none for a new role: peer auth only).
-- The same script serves the native harness, the NixOS module and the VM test.

\set ON_ERROR_STOP on

SELECT format('CREATE ROLE %I LOGIN', name)
  FROM unnest(ARRAY[:'migrator', :'web', :'worker']) AS name
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = name)
\gexec

\if :{?migrator_password_file}
\set password `cat :'migrator_password_file'`
ALTER ROLE :"migrator" PASSWORD :'password';
\endif
\if :{?web_password_file}
\set password `cat :'web_password_file'`
ALTER ROLE :"web" PASSWORD :'password';
\endif
\if :{?worker_password_file}
\set password `cat :'worker_password_file'`
ALTER ROLE :"worker" PASSWORD :'password';
\endif
\unset password

SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'migrator')
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db')
\gexec

ALTER DATABASE :"db" OWNER TO :"migrator";
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
GRANT CONNECT ON DATABASE :"db" TO :"web", :"worker";

\connect :"db"

-- Only the migrator may create objects (PUBLIC lost CREATE on public in PostgreSQL 15;
-- revoked here for older servers too).
ALTER SCHEMA public OWNER TO :"migrator";
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO :"web", :"worker";

-- The web role: DML on everything the migrator creates, now and later.
ALTER DEFAULT PRIVILEGES FOR ROLE :"migrator" IN SCHEMA public
  GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO :"web";
ALTER DEFAULT PRIVILEGES FOR ROLE :"migrator" IN SCHEMA public
  GRANT USAGE, SELECT ON SEQUENCES TO :"web";
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO :"web";
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO :"web";
