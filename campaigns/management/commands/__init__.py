"""`campaigns_tick` (due schedules, dead workers, parked callbacks), `demo_campaign`
(the demo's draft) and `webhook_replay` (stored callbacks processed again)."""
