"""The humanoid tracking task (DeepMimic, SPEC §2) declared as a term table: tracking.py, with its
observations and options."""
