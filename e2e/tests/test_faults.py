"""The fault scenarios of ``./dev faults``, at a tenth of their size, with the same assertions:
nothing lost, nothing run twice, no 5xx but 503, no crashed worker, no secret in any log."""

import pytest

from faults import HOST_SCENARIOS, SCENARIOS

SCALE = 0.1


# The host scenarios (partition) run in the vm-native suite, on its one boot of the hosts.
@pytest.mark.parametrize("name", [name for name in SCENARIOS if name not in HOST_SCENARIOS])
def test_the_scenario_holds(name):
    outcome = SCENARIOS[name](SCALE)
    print(outcome.line(), *outcome.figures, sep="\n")
    assert outcome.jobs > 0
    assert outcome.lost == 0
    assert outcome.duplicated == 0
    assert outcome.problems == []
