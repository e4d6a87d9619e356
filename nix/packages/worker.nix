# duet-worker: the Celery worker from worker/poetry.lock, with the `duet-worker` script
# (`celery --app duet_worker worker ...`).
args: (import ../lib/python.nix args).application "worker"
