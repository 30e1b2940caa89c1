"""Step schedules."""


def linear_warmup(step: int, warmup_steps: int) -> float:
    """0 at step 0 rising linearly to 1 at `warmup_steps` (1 throughout if warmup_steps <= 0).

    Used for KL (beta) annealing: paper 000 section 3.7 raises beta from 0 to its target
    over the first 20 epochs.
    """
    if warmup_steps <= 0:
        return 1.0
    return min(1.0, step / warmup_steps)
