# The shared_resource suite in the worker environment, with the worker lock's Django.
import ../lib/shared-resource-check.nix "worker"
