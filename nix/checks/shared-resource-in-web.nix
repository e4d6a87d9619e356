# The shared_resource suite in the web environment, with the web lock's Django.
import ../lib/shared-resource-check.nix "web"
