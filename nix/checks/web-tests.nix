# The web suite in the build sandbox, in the web environment from web/poetry.lock.
args: (import ../lib/python.nix args).tests "web"
