# `nix develop .#web`: the web environment from web/poetry.lock, shared_resource editable.
import ../lib/devshell.nix "web"
