"""Pure math: forward/backward pairs over ``xp``, one concept per file."""
