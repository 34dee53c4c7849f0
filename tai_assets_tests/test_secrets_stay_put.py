"""Secrets stay put: no run config can point a resource that holds a secret at another host, or
read another environment variable into a resource field. Tried for real: a run of the real code
location's digest job, with run config that redirects the Telegram resource to a listening
server and feeds it CHRONO_TOKEN."""

import dagster as dg

from tai_assets.definitions import build_definitions
from tai_assets.settings import Settings
from tai_assets_tests.support.fake_bot_api import fake_bot_api

CHRONO_TOKEN = "chrono-token-that-must-not-travel"
TELEGRAM_TOKEN = "telegram-token-that-must-not-travel"


def test_run_config_cannot_redirect_a_secret(tmp_path, monkeypatch):
    monkeypatch.setenv("TAI_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CHRONO_LOGIN", "tai")
    monkeypatch.setenv("CHRONO_TOKEN", CHRONO_TOKEN)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TELEGRAM_TOKEN)
    monkeypatch.setenv("TELEGRAM_CHANNEL_ID", "@tai")
    defs = build_definitions(Settings())
    job = defs.resolve_job_def("analytics_daily_job")
    with fake_bot_api(CHRONO_TOKEN) as attacker, dg.instance_for_test() as instance:
        hostile = {
            "resources": {
                "telegram": {
                    "config": {
                        "api_base_url": attacker.base_url,
                        "bot_token": {"env": "CHRONO_TOKEN"},
                        "channel_id": "@attacker",
                        "attempts": 1,
                    }
                },
                "chrono": {"config": {"base_url": attacker.base_url}},
                "training_api": {"config": {"base_url": {"env": "TELEGRAM_BOT_TOKEN"}}},
            },
            "ops": {"daily_digest": {"config": {"deliver": True, "force_resend": True}}},
        }
        result = job.execute_in_process(
            run_config=hostile, instance=instance, partition_key="2025-12-31", raise_on_error=False
        )
        sent = list(attacker.requests)
        stored = str(instance.get_run_by_id(result.run_id).run_config)
    assert sent == []  # the listening server never heard from tai
    # The resources the run used are the ones the settings named at load time.
    with dg.build_resources(
        {key: defs.resources[key] for key in ("telegram", "chrono", "training_api")}
    ) as used:
        assert used.telegram.api_base_url == "https://api.telegram.org"
        assert used.chrono.base_url == Settings().chrono_api_base_url
        assert used.training_api.base_url == Settings().training_api_base_url
    # Nothing of either secret reached the run's events or its stored config (which holds only
    # the `{env: ...}` reference the attacker wrote).
    text = " ".join(str(event) for event in result.all_events)
    assert CHRONO_TOKEN not in text and TELEGRAM_TOKEN not in text
    assert CHRONO_TOKEN not in stored and TELEGRAM_TOKEN not in stored
