"""The worker refuses timeouts that do not nest, and unknown providers."""

from summaries.checks import provider_configured, timeouts_nest


def test_the_default_timeouts_nest():
    assert timeouts_nest() == []


def test_a_soft_limit_below_the_provider_timeout_is_an_error(settings):
    settings.DUET_PROVIDER_TIMEOUT = 100
    settings.CELERY_TASK_SOFT_TIME_LIMIT = 90
    errors = timeouts_nest()
    assert [e.id for e in errors] == ["summaries.E001"]
    assert (
        "DUET_PROVIDER_TIMEOUT=100 must be less than CELERY_TASK_SOFT_TIME_LIMIT=90"
        in errors[0].msg
    )


def test_a_lease_past_the_visibility_timeout_is_an_error(settings):
    settings.DUET_LEASE_SECONDS = 7200
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
    assert (
        "DUET_LEASE_SECONDS=7200 must be less than visibility_timeout=3600"
        in timeouts_nest()[0].msg
    )


def test_an_unknown_provider_is_an_error(settings):
    settings.DUET_PROVIDER = "gpt"
    assert [e.id for e in provider_configured()] == ["summaries.E002"]


def test_the_router_refuses_every_migration():
    from duet_worker.router import NoMigrations

    assert NoMigrations().allow_migrate("default", "common") is False
    assert NoMigrations().allow_migrate("default", "auth", model_name="user") is False
