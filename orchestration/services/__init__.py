"""Services of order orchestration, by topic: plans (templates -> steps), steps (run, retry,
complete, re-plan), interventions (customer changes), sla (breaches), webhooks (outbox)."""
