"""The humanoid tracking task (DeepMimic, Peng et al. 2018) declared as a term table: tracking.py, with its
observations and options."""
