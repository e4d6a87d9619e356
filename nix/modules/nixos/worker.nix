# services.duet.worker: the Celery worker (duet-worker.service), DML-only on the database.
{ flake }:
{
  config,
  lib,
  pkgs,
  ...
}:
let
  cfg = config.services.duet;
  workerCfg = cfg.worker;
  units = import ../../lib/units.nix { inherit config lib pkgs; };

  # The worker's own exit status for a database outside its release's schema window, at
  # start-up or when it steps aside (duet_worker/stepping_aside.py, sysexits EX_CONFIG).
  schemaMismatch = 78;

  sideOptions = units.sideOptions flake "worker" {
    credentials.CELERY_BROKER_URL = "/run/secrets/duet-broker-url";
    settings = {
      OPENAI_BASE_URL = "http://llm.internal:8000/v1";
      DUET_OPENAI_MODEL = "qwen2.5-7b-instruct";
      DUET_PROVIDER_TIMEOUT = 120;
    };
    extraArgs = [
      "--max-tasks-per-child"
      "1000"
    ];
  };
in
{
  # Imported once however it is reached (nixosModules.worker and nixosModules.default).
  key = "duet/nixosModules/worker";

  imports = [ ../common.nix ];

  options.services.duet.worker = sideOptions // {
    concurrency = lib.mkOption {
      type = lib.types.ints.positive;
      default = 2;
      example = 8;
      description = "Celery pool processes.";
    };

    provider = lib.mkOption {
      type = lib.types.enum [
        "extractive"
        "openai"
      ];
      default = "extractive";
      example = "openai";
      description = ''
        The summary provider (`DUET_PROVIDER`): `extractive` runs locally; `openai` calls any
        OpenAI-compatible server (OpenAI, vLLM, Ollama, llama.cpp), see
        {option}`services.duet.worker.settings` and {option}`services.duet.worker.openaiApiKeyFile`.
      '';
    };

    openaiApiKeyFile = lib.mkOption {
      type = lib.types.nullOr lib.types.path;
      default = null;
      example = "/run/secrets/openai-api-key";
      description = "A file holding `OPENAI_API_KEY`, passed with LoadCredential.";
    };
  };

  config = lib.mkIf workerCfg.enable {
    users.users.duet-worker = units.user "duet worker";

    systemd.services.duet-worker = {
      description = "duet: Celery worker";
      wantedBy = [ "multi-user.target" ];
      # On the web's host, start after its migrations; elsewhere the schema guard below
      # decides. After alone, no Requires: the unit may live on another host.
      after = [
        "duet-migrate.service"
        "network-online.target"
      ]
      ++ units.databaseUnits
      ++ units.brokerUnits;
      wants = [ "network-online.target" ];
      environment = units.unitEnvironment (
        units.environment "worker" (
          workerCfg.settings
          // {
            DUET_PROVIDER = workerCfg.provider;
            # Liveness without the broker's remote control (duet-worker-health reads it).
            DUET_WORKER_HEARTBEAT_FILE = "/run/duet-worker/heartbeat";
          }
        )
      );
      serviceConfig = units.serviceConfig "duet-worker" // {
        Type = "exec";
        RuntimeDirectory = "duet-worker";
        LoadCredential = units.unitLines (
          units.credentials "worker" (
            lib.optionalAttrs (workerCfg.openaiApiKeyFile != null) {
              OPENAI_API_KEY = workerCfg.openaiApiKeyFile;
            }
            // workerCfg.credentials
          )
        );
        ExecStart = lib.concatStringsSep " " [
          (lib.getExe units.launcher)
          (lib.getExe workerCfg.package)
          "--loglevel INFO"
          "--concurrency ${toString workerCfg.concurrency}"
          (units.escapeSpecifiers workerCfg.extraArgs)
        ];
        # Restart on crashes and lost connections, but not on a schema mismatch: restarting
        # cannot fix it. Run the web's migrations (or deploy the matching release), then
        # `systemctl restart duet-worker`.
        Restart = "on-failure";
        RestartSec = "10s";
        RestartPreventExitStatus = schemaMismatch;
        # Celery finishes running tasks on SIGTERM (warm shutdown), bounded by the soft
        # shutdown timeout in its settings. SIGTERM goes to the main process only, so that
        # the pool processes finish their tasks instead of dying mid-job.
        TimeoutStopSec = "5min";
        KillMode = "mixed";
      };
    };
  };
}
