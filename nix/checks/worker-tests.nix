# The worker suite in the build sandbox, in the worker environment from worker/poetry.lock.
args: (import ../lib/python.nix args).tests "worker"
