# `nix develop .#worker`: the worker environment from worker/poetry.lock, shared_resource editable.
import ../lib/devshell.nix "worker"
