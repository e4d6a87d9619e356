# duet's round trip on separate hosts, as deployed: PostgreSQL and Redis on `db`, gunicorn on
# `web`, the Celery worker on `worker`, and `client` standing for everyone else. It runs the
# same scenario program as the native e2e suite (e2e/scenario.py). x86_64-linux only: it
# needs KVM to run in reasonable time.
{
  flake,
  system,
  pkgs,
  ...
}:
if system != "x86_64-linux" then
  null
else
  pkgs.testers.runNixOSTest (
    { nodes, lib, ... }:
    let
      # Test-only secrets, in the store on purpose: only a test may do that.
      passwordFiles = lib.genAttrs [ "migrator" "web" "worker" ] (
        role: pkgs.writeText "duet-${role}-db-password" "vm-${role}-password"
      );
      redisPassword = "vm-redis-password";
      brokerEnv = pkgs.writeText "duet-broker.env" ''
        CELERY_BROKER_URL=redis://:${redisPassword}@db:6379/0
      '';

      # web and worker reach the database and the broker on `db`, with passwords.
      remoteServices = {
        services.duet = {
          database = {
            host = "db";
            inherit passwordFiles;
          };
          environmentFile = brokerEnv;
        };
      };

      # The only hosts allowed to reach PostgreSQL and Redis (the seed's RDS inbound rules).
      # The test network is dual-stack: every node has an IPv4 and an IPv6 address, and
      # /etc/hosts lists both for each name, so glibc tries `db`'s IPv6 address first. Each
      # client is allowed on both, or its IPv6 attempts would hang on the firewall's DROP.
      clients = [
        nodes.web
        nodes.worker
      ];
      ipv4 = map (node: node.networking.primaryIPAddress) clients;
      ipv6 = map (node: node.networking.primaryIPv6Address) clients;
      dbNet = nodes.db.networking;
      webNet = nodes.web.networking;
    in
    {
      name = "duet";

      defaults = {
        virtualisation.memorySize = 2048;
      };

      nodes = {
        db = {
          imports = [ flake.nixosModules.default ];
          services.duet.database = {
            createLocally = true;
            inherit passwordFiles;
          };
          services.postgresql = {
            # listen_addresses = '*': every IPv4 and IPv6 address.
            enableTCPIP = true;
            authentication =
              lib.concatMapStrings (address: ''
                host duet duet_migrator,duet_web,duet_worker ${address}/32 scram-sha-256
              '') ipv4
              + lib.concatMapStrings (address: ''
                host duet duet_migrator,duet_web,duet_worker ${address}/128 scram-sha-256
              '') ipv6;
          };
          services.redis.servers.duet = {
            enable = true;
            port = 6379;
            # Both families, said outright (Redis's own default, `* -::*`, makes IPv6 optional).
            bind = "0.0.0.0 ::";
            requirePassFile = pkgs.writeText "duet-redis-password" redisPassword;
          };
          # Ports 5432 and 6379 stay closed to everyone else, `client` included: the iptables
          # rules for IPv4, the ip6tables rules for IPv6 (NixOS's firewall runs both).
          networking.firewall.extraCommands =
            lib.concatMapStrings (address: ''
              iptables -A nixos-fw -p tcp -s ${address} --dport 5432 -j nixos-fw-accept
              iptables -A nixos-fw -p tcp -s ${address} --dport 6379 -j nixos-fw-accept
            '') ipv4
            + lib.concatMapStrings (address: ''
              ip6tables -A nixos-fw -p tcp -s ${address} --dport 5432 -j nixos-fw-accept
              ip6tables -A nixos-fw -p tcp -s ${address} --dport 6379 -j nixos-fw-accept
            '') ipv6;
        };

        web = {
          imports = [
            flake.nixosModules.web
            remoteServices
          ];
          services.duet.web = {
            enable = true;
            # IPv6 and, through v4-mapped addresses, IPv4 too.
            address = "::";
            openFirewall = true;
            allowedHosts = [
              "web"
              "localhost"
            ];
          };
        };

        worker = {
          imports = [
            flake.nixosModules.worker
            remoteServices
          ];
          services.duet.worker = {
            enable = true;
            # A `%` the unit must keep literal (systemd would read `%2F` as a specifier); the
            # extractive provider never calls it.
            settings.OPENAI_BASE_URL = "http://llm.internal:8000/v1?tenant=team%2Fa";
          };
        };

        client = {
          environment.systemPackages = [ flake.packages.${system}.scenario ];
        };
      };

      testScript = ''
        import re


        def reachable(machine: Machine, host: str, port: int) -> bool:
            status, _ = machine.execute(f"timeout 5 bash -c '</dev/tcp/{host}/{port}'")
            return status == 0


        def psql(query: str) -> str:
            return db.succeed(f"runuser -u postgres -- psql -d duet -Atc \"{query}\"").strip()


        # The web is held back so the worker meets an unmigrated database first.
        db.start()
        worker.start()
        client.start()
        db.wait_for_unit("duet-db-setup.service")
        db.wait_for_open_port(5432)
        db.wait_for_open_port(6379)

        with subtest("The worker refuses a database that is behind its migrations"):
            # Guards the schema guard and RestartPreventExitStatus: exit 78, then no restart loop.
            worker.wait_until_succeeds(
                "test \"$(systemctl show -P ExecMainStatus duet-worker.service)\" = 78"
            )
            worker.succeed("systemctl is-failed duet-worker.service")

        web.start()

        with subtest("The web migrates as the migrator before it serves"):
            web.wait_for_unit("duet-migrate.service")
            web.wait_for_unit("duet-web.service")
            web.wait_for_open_port(8000)
            owner = psql("SELECT tableowner FROM pg_tables WHERE tablename = 'common_summaryjob'")
            assert owner == "duet_migrator", f"the tables belong to {owner!r}"
            web.succeed("curl --fail --silent http://localhost:8000/api/health/")

        with subtest("The worker starts once the schema matches"):
            worker.succeed("systemctl restart duet-worker.service")
            worker.wait_for_unit("duet-worker.service")
            worker.wait_until_succeeds("journalctl -u duet-worker.service | grep -q ' ready.'")
            # Liveness from the heartbeat file, as the worker image's health check reads it.
            worker.succeed(
                "DUET_WORKER_HEARTBEAT_FILE=/run/duet-worker/heartbeat"
                " ${flake.packages.${system}.worker}/bin/duet-worker-health"
            )
            # The `%` of a setting reaches the process as written.
            worker.succeed(
                "tr '\\0' '\\n' </proc/$(systemctl show -P MainPID duet-worker.service)/environ"
                " | grep -Fx 'OPENAI_BASE_URL=http://llm.internal:8000/v1?tenant=team%2Fa'"
            )

        with subtest("Names resolve to both families"):
            # So the firewall, pg_hba and the binds must answer both (glibc tries IPv6 first).
            hosts = web.succeed("getent ahosts db")
            for address in ("${dbNet.primaryIPv6Address}", "${dbNet.primaryIPAddress}"):
                assert address in hosts, f"db does not resolve to {address}: {hosts}"

        with subtest("PostgreSQL and Redis answer web and worker only, on both families"):
            for host in ("db", "${dbNet.primaryIPAddress}", "${dbNet.primaryIPv6Address}"):
                for machine in (web, worker):
                    for port in (5432, 6379):
                        assert reachable(machine, host, port), f"{machine.name} -> {host}:{port}"
                for port in (5432, 6379):
                    assert not reachable(client, host, port), f"{host}:{port} is open to client"
            for host in ("web", "${webNet.primaryIPAddress}", "${webNet.primaryIPv6Address}"):
                assert reachable(client, host, 8000), f"the API is closed to client on {host}"

        with subtest("A document sent from outside is summarised by the worker"):
            token = web.succeed("duet-manage create_api_user vm").strip()
            other = web.succeed("duet-manage create_api_user vm-other").strip()
            output = client.succeed(
                "duet-scenario --base-url http://web:8000"
                f" --token {token} --other-token {other} --timeout 180"
            )
            last = output.strip().splitlines()[-1]
            assert re.match(r"roundtrip: ok job=\S+ status=succeeded seconds=", last), last
            job = last.split("job=")[1].split()[0]
            status = psql(f"SELECT status FROM common_summaryjob WHERE id = '{job}'")
            assert status == "succeeded", f"job {job} is {status!r} in the database"
            # The worker's own record of the call, and its log of the task (the job id).
            provider = psql(f"SELECT provider FROM common_providercall WHERE job_id = '{job}'")
            assert provider == "extractive", f"the worker recorded {provider!r}"
            worker.succeed(f"journalctl -u duet-worker.service | grep -q {job}")

        with subtest("API tokens are stored hashed and revoked by id"):
            dump = db.succeed("runuser -u postgres -- pg_dump duet")
            token_id = token.split("_")[1]
            assert token_id in dump, "the token table is missing from the dump"
            assert token not in dump and other not in dump, "a token is stored in clear"
            web.succeed(f"duet-manage revoke_api_token {token_id}")
            status = client.succeed(
                "curl --silent --output /dev/null --write-out '%{http_code}'"
                f" -H 'Authorization: Token {token}' http://web:8000/api/documents/"
            )
            assert status == "401", f"a revoked token got {status}"

        with subtest("The sweeper runs on its timer"):
            web.wait_for_unit("duet-sweep.timer")
            web.succeed("systemctl start duet-sweep.service")

        with subtest("Every duet unit runs hardened"):
            # At most this exposure (systemd-analyze security's 0-10 scale) for every unit,
            # and `systemd-analyze verify` accepts each one.
            max_exposure = 3.0
            for machine, units in (
                (db, ["duet-db-setup"]),
                (web, ["duet-migrate", "duet-web", "duet-sweep", "duet-web-secret-key"]),
                (worker, ["duet-worker"]),
            ):
                for unit in units:
                    machine.succeed(f"systemd-analyze verify {unit}.service")
                    report = machine.succeed(f"systemd-analyze security --no-pager {unit}.service")
                    machine.log(report)
                    found = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", report)
                    assert found, f"no exposure level for {unit}: {report}"
                    exposure = float(found.group(1))
                    assert exposure <= max_exposure, f"{unit}: exposure {exposure} > {max_exposure}"
      '';
    }
  )
