"""Training: run specs, the step-based trainer, atomic checkpoints, schedules."""
