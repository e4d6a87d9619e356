# duet-web: the DRF service from web/poetry.lock, with the `duet-web` (gunicorn) and
# `duet-manage` console scripts.
args: (import ../lib/python.nix args).application "web"
