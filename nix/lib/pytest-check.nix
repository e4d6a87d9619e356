# One pytest run in the build sandbox, against a private PostgreSQL (postgresqlTestHook) and
# Redis (redisTestHook), as `./dev test` runs it natively.
{ pkgs }:
{
  name,
  environment,
  src,
  # Shell run before the test servers start (runHook runs the preCheck string before the
  # hooks' preCheckHooks).
  preCheck ? "",
}:
pkgs.stdenv.mkDerivation {
  inherit name src preCheck;
  dontConfigure = true;
  dontBuild = true;

  doCheck = true;
  nativeCheckInputs = [
    environment
    pkgs.postgresql
    pkgs.postgresqlTestHook
    pkgs.redisTestHook
  ];

  env = {
    # Django's test runner creates its own database, so the test user is a superuser, as
    # in ./dev test (never the DML-only roles).
    postgresqlTestUserOptions = "LOGIN SUPERUSER";
    # The hook exports PGHOST (its socket directory) and PGUSER; the URL names the database.
    DATABASE_URL = "postgres:///test_db";
    # redisTestHook listens on 6379 in the sandbox's own network namespace.
    CELERY_BROKER_URL = "redis://127.0.0.1:6379/2";
    CACHE_URL = "redis://127.0.0.1:6379/3";
    PYTHONDONTWRITEBYTECODE = "1";
  };

  checkPhase = ''
    # Its own socket path, outside the run/ directory postgresqlTestHook also uses
    # (nixpkgs#419823 fixed a clash there after 25.05 branched off).
    export REDIS_SOCKET=$NIX_BUILD_TOP/redis.sock
    runHook preCheck
    export HOME=$TMPDIR
    python -m pytest -p no:cacheprovider
    runHook postCheck
  '';

  installPhase = ''
    touch $out
  '';
}
