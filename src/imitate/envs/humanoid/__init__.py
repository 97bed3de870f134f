"""The DeepMimic humanoid on MuJoCo: model facts (model.py) and the batched simulator (sim.py)."""
